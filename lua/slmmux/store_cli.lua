-- slmmux store: the sample store as files, to inspect, check, share, merge
-- runs made on several machines, or fill from a batch API's output.
--
--   slmmux store stats [--store PATH]
--   slmmux store verify [--store PATH]            every integrity check; exit 1 on damage
--   slmmux store export [FILE] [--store PATH]     (default: stdout)
--   slmmux store import FILE... [--store PATH]    (idempotent: samples already
--                                                  stored are kept as they are)
--   slmmux store import-batch FILE... [--store PATH]
--                                                 a batch API's output files, for the
--                                                 request lines run --batch-out wrote
-- Export writes one line per sample: {key, request, idx, text, finish_reason,
-- prompt_tokens, completion_tokens, latency_ms, model, created}. On import
-- the key must be the SHA-256 of the request, so a line edited by hand
-- cannot hide a sample under another prompt's key. Malformed lines are
-- reported by file and line number and the rest is imported; the exit
-- status is then 1. import commits every 5,000 samples (run it again after
-- a crash: it is idempotent); import-batch commits once, so a crash or a
-- full disk leaves the store as it was, and takes each output line whole
-- or not at all.
local mux = require "slmmux"
local cjson = require "cjson"
local errors = require "slmmux.errors"

local cli = mux.cli
local args = cli.args or {}
local path = cli.store or os.getenv("SLMMUX_STORE") or ".slmmux/store.sqlite"

-- Samples put between commits during an import: bounds the memory the
-- batch holds (store.h) for files of millions of lines.
local IMPORT_COMMIT_EVERY = 5000

local function open(readonly)
  local st, err = mux.store.open(path, { readonly = readonly })
  if not st then error(err, 0) end
  return st
end

local function say(fmt, ...) io.stderr:write(string.format(fmt, ...), "\n") end

local function stats()
  local st = open(true)
  local s = assert(st:stats())
  print(string.format("%s: %d prompts, %d samples, %d bytes", path, s.prompts, s.samples, s.bytes))
  st:close()
end

local function verify()
  local st = open(true)
  local whole, r = st:verify()
  if whole == nil then error(r, 0) end
  st:close()
  for _, line in ipairs(r.problems) do say("%s: %s", path, line) end
  print(string.format("%s: database integrity %s; %d prompts (request hashes to key: %d damaged), "
    .. "%d samples (checksums: %s; %d damaged), %d samples without a prompt", path,
    r.integrity_errors == 0 and "ok" or (r.integrity_errors .. " problems"), r.prompts,
    r.damaged_prompts, r.samples, r.checksums and "checked" or "none in this version 1 store, "
    .. "open it for writing once to add them", r.damaged_samples, r.orphans))
  if not whole then error(path .. ": the store is damaged (see above)", 0) end
end

local function export(file)
  local out = io.stdout
  if file and file ~= "-" then
    local err
    out, err = io.open(file, "w")
    if not out then error("cannot write " .. err, 0) end
  end
  local st = open(true)
  local n, damaged, werr = 0, 0, nil
  st:each(function(key, request, idx, s)
    if not s then
      damaged = damaged + 1
      say("%s: sample %d of prompt %s is damaged (checksum mismatch): not exported", path, idx, key)
      return
    end
    local ok, e = out:write(cjson.encode{ key = key, request = request, idx = idx, text = s.text,
      finish_reason = s.finish_reason, prompt_tokens = s.prompt_tokens,
      completion_tokens = s.completion_tokens, latency_ms = s.latency_ms,
      model = s.model, created = s.created }, "\n")
    if not ok then werr = e return false end
    n = n + 1
  end)
  st:close()
  local ok, e = out:flush()
  if out ~= io.stdout then out:close() end
  werr = werr or (not ok and e)
  if werr then error(string.format("cannot write %s: %s", file or "stdout", werr), 0) end
  say("exported %d samples from %s%s", n, path,
    damaged > 0 and string.format(" (%d damaged ones left out)", damaged) or "")
  if damaged > 0 then error(path .. ": damaged samples were not exported (slmmux store verify)", 0) end
end

local function check_line(t)
  if type(t) ~= "table" then return "not a JSON object" end
  if type(t.key) ~= "string" or not t.key:match("^%x+$") or #t.key ~= 64 then
    return "key must be 64 hex digits"
  end
  if type(t.request) ~= "string" then return "request must be a string" end
  if mux.store.hash(t.request) ~= t.key:lower() then return "key is not the SHA-256 of request" end
  -- lua-cjson decodes every number as a float: 0 arrives as 0.0
  t.idx = type(t.idx) == "number" and math.tointeger(t.idx) or nil
  if not t.idx or t.idx < 0 then return "idx must be an integer >= 0" end
  if t.text == cjson.null then t.text = nil end
  if t.text ~= nil and type(t.text) ~= "string" then return "text must be a string or absent" end
  for _, f in ipairs({"prompt_tokens", "completion_tokens"}) do
    if t[f] == cjson.null then t[f] = nil end
    if t[f] ~= nil then
      t[f] = type(t[f]) == "number" and math.tointeger(t[f]) or nil
      if not t[f] or t[f] < 0 then return f .. " must be an integer >= 0" end
    end
  end
  for _, f in ipairs({"finish_reason", "model"}) do
    if t[f] == cjson.null then t[f] = nil end
    if t[f] ~= nil and type(t[f]) ~= "string" then return f .. " must be a string" end
  end
  for _, f in ipairs({"latency_ms", "created"}) do
    if t[f] == cjson.null then t[f] = nil end
    if t[f] ~= nil and type(t[f]) ~= "number" then return f .. " must be a number" end
  end
  return nil
end

-- Reads every line of files; on_line(t, where) returns nil or why the line
-- is bad. Returns the number of bad lines.
local function each_line(files, on_line)
  local bad = 0
  for _, file in ipairs(files) do
    local f, err = io.open(file, "r")
    if not f then error("cannot read " .. err, 0) end
    local lineno = 0
    for line in f:lines() do
      lineno = lineno + 1
      if line:match("%S") then
        local ok, t = pcall(cjson.decode, line)
        local why = not ok and ("malformed JSON: " .. tostring(t)) or on_line(t)
        if why then
          bad = bad + 1
          say("%s:%d: %s (skipped)", file, lineno, why)
        end
      end
    end
    f:close()
  end
  return bad
end

-- Puts samples, committing every IMPORT_COMMIT_EVERY; returns the counts.
local function importer(st, commit_every)
  local imp = {new = 0, held = 0}
  function imp.put(key, request, idx, sample)
    local new, err = st:put(key, request, idx, sample)
    if new == nil then error(err, 0) end
    if new then imp.new = imp.new + 1 else imp.held = imp.held + 1 end
    if commit_every and st:pending() >= commit_every then imp.commit() end
  end
  function imp.commit()
    local ok, err = st:commit()
    if not ok then error(err, 0) end
  end
  return imp
end

local function finish_import(st, imp, bad, what)
  imp.commit()
  st:close()
  say("imported %d samples into %s (%d already there); %d %s skipped", imp.new, path, imp.held, bad,
    what .. (bad == 1 and "" or "s"))
  if bad > 0 then error(string.format("%d %s%s not imported (see above)", bad, what,
    bad == 1 and " was" or "s were"), 0) end
end

local function import(files)
  if #files == 0 then errors.usage("store import needs at least one file") end
  local st = open(false)
  local imp = importer(st, IMPORT_COMMIT_EVERY)
  local bad = each_line(files, function(t)
    local why = check_line(t)
    if not why then imp.put(t.key, t.request, t.idx, t) end
    return why
  end)
  finish_import(st, imp, bad, "malformed line")
end

-- ---- import-batch ----------------------------------------------------------

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

-- The 64-hex prompt key of a custom_id's 43 base64url characters, or nil.
local function key_of_b64(s)
  if #s ~= 43 then return nil end
  local bits, nbits, out = 0, 0, {}
  for i = 1, 43 do
    local v = B64:find(s:sub(i, i), 1, true)
    if not v then return nil end
    bits, nbits = (bits << 6) | (v - 1), nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.format("%02x", (bits >> nbits) & 0xff)
    end
  end
  return #out == 32 and table.concat(out) or nil
end

-- The samples of one output line, or nil and why it is not imported. Both
-- OpenAI's and Together's output lines: {custom_id, response = {status_code,
-- body = a chat completion}, error}; Together may leave status_code out.
local function batch_samples(t, st)
  if type(t) ~= "table" then return nil, "not a JSON object" end
  local id = t.custom_id
  local b64, first, count = tostring(id):match("^([%w_-]+)%-(%d+)%-(%d+)$")
  local key = b64 and key_of_b64(b64)
  if not key then return nil, "custom_id " .. tostring(id) .. " was not written by slmmux run --batch-out" end
  first, count = tonumber(first), tonumber(count)
  local where = string.format("custom_id %s (samples %d-%d)", id, first, first + count - 1)
  if not st:request(key) then return nil, where .. ": its prompt is not in " .. path .. " (import into the store the --batch-out run used)" end
  if type(t.error) == "table" then
    return nil, string.format("%s: the provider reports an error: %s", where,
      tostring(t.error.message or t.error.code or cjson.encode(t.error)))
  end
  local resp = type(t.response) == "table" and t.response or nil
  local body = resp and resp.body
  local status = resp and resp.status_code ~= cjson.null and resp.status_code or 200
  if not resp or type(body) ~= "table" then return nil, where .. ": no response body" end
  if status ~= 200 then
    local e = type(body.error) == "table" and body.error.message or cjson.encode(body)
    return nil, string.format("%s: HTTP %s: %s", where, tostring(status), tostring(e))
  end
  local choices = type(body.choices) == "table" and body.choices or {}
  if #choices ~= count then
    return nil, string.format("%s: %d choices, expected %d (nothing of it imported)", where, #choices, count)
  end
  local usage = type(body.usage) == "table" and body.usage or {}
  local pt = math.tointeger(tonumber(usage.prompt_tokens) or 0) or 0
  local ct = math.tointeger(tonumber(usage.completion_tokens) or 0) or 0
  local samples = {}
  for i, c in ipairs(choices) do
    local msg = type(c) == "table" and c.message
    local text = type(msg) == "table" and msg.content
    if text == cjson.null then text = nil end
    if text ~= nil and type(text) ~= "string" then return nil, where .. ": choice content is not a string" end
    local slot = math.tointeger(tonumber(c.index)) or (i - 1)
    if slot < 0 or slot >= count or samples[slot + 1] then return nil, where .. ": bad choice index" end
    -- the prompt is billed once per request: shared as a live call shares it
    local m, k = count, slot
    samples[slot + 1] = {text = text, finish_reason = type(c.finish_reason) == "string" and c.finish_reason or nil,
      model = type(body.model) == "string" and body.model or nil,
      prompt_tokens = pt // m + (k < pt % m and 1 or 0),
      completion_tokens = ct // m + (k < ct % m and 1 or 0)}
  end
  return {key = key, first = first, samples = samples}
end

local function import_batch(files)
  if #files == 0 then errors.usage("store import-batch needs at least one output file") end
  local st = open(false)
  local lines = {}
  local bad = each_line(files, function(t)
    local got, why = batch_samples(t, st)
    if got then lines[#lines + 1] = got end
    return why
  end)
  local imp = importer(st)
  for _, l in ipairs(lines) do
    for i, sm in ipairs(l.samples) do imp.put(l.key, nil, l.first + i - 1, sm) end
  end
  finish_import(st, imp, bad, "line")
end

local verb = table.remove(args, 1)
if verb == "stats" then stats()
elseif verb == "verify" then verify()
elseif verb == "export" then export(args[1])
elseif verb == "import" then import(args)
elseif verb == "import-batch" then import_batch(args)
else
  errors.usage("usage: slmmux store stats|verify|export [FILE]|import FILE...|import-batch FILE... "
    .. "[--store PATH]")
end
