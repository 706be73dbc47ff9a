-- slmmux store stats|export|import: the sample store as JSONL, to inspect,
-- share, or merge runs made on several machines.
--
--   slmmux store stats [--store PATH]
--   slmmux store export [FILE] [--store PATH]     (default: stdout)
--   slmmux store import FILE [--store PATH]       (malformed lines are reported
--                                                  by number; good ones are kept)
-- One line per sample: {key, request, idx, text, finish_reason, prompt_tokens,
-- completion_tokens, latency_ms, model, created}. On import the key must be
-- the SHA-256 of the request, so a line edited by hand cannot hide a sample
-- under another prompt's key.
local mux = require "slmmux"
local cjson = require "cjson"

local cli = mux.cli
local args = cli.args or {}
local path = cli.store or os.getenv("SLMMUX_STORE") or ".slmmux/store.sqlite"

local function fail(msg)
  io.stderr:write("slmmux store: ", msg, "\n")
  os.exit(1)
end

local function open(readonly)
  local st, err = mux.store.open(path, { readonly = readonly })
  if not st then fail(err) end
  return st
end

local function stats()
  local st = open(true)
  local s = assert(st:stats())
  print(string.format("%s: %d prompts, %d samples, %d bytes", path, s.prompts, s.samples, s.bytes))
  st:close()
end

local function export(file)
  local out = file and file ~= "-" and assert(io.open(file, "w")) or io.stdout
  local st = open(true)
  local n = 0
  st:each(function(key, request, idx, s)
    out:write(cjson.encode{ key = key, request = request, idx = idx, text = s.text,
      finish_reason = s.finish_reason, prompt_tokens = s.prompt_tokens,
      completion_tokens = s.completion_tokens, latency_ms = s.latency_ms,
      model = s.model, created = s.created }, "\n")
    n = n + 1
  end)
  st:close()
  if out ~= io.stdout then out:close() end
  io.stderr:write(string.format("exported %d samples from %s\n", n, path))
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
  if t.text ~= nil and type(t.text) ~= "string" then return "text must be a string or absent" end
  return nil
end

local function import(file)
  if not file then fail("import needs a file") end
  local f = io.open(file, "r")
  if not f then fail("cannot open " .. file) end
  local st = open(false)
  local good, held, bad, lineno = 0, 0, 0, 0
  for line in f:lines() do
    lineno = lineno + 1
    if line:match("%S") then
      local ok, t = pcall(cjson.decode, line)
      local why = not ok and ("malformed JSON: " .. tostring(t)) or check_line(t)
      if why then
        bad = bad + 1
        io.stderr:write(string.format("%s:%d: %s (skipped)\n", file, lineno, why))
      else
        if t.text == cjson.null then t.text = nil end
        local new, err = st:put(t.key, t.request, t.idx, t)   -- false: already stored
        if new == nil then fail(string.format("%s:%d: %s", file, lineno, tostring(err))) end
        if new then good = good + 1 else held = held + 1 end
      end
    end
  end
  f:close()
  assert(st:commit())
  st:close()
  io.stderr:write(string.format("imported %d samples into %s (%d already there); %d malformed line%s skipped\n",
    good, path, held, bad, bad == 1 and "" or "s"))
  if bad > 0 then os.exit(3) end
end

local verb = args[1]
if verb == "stats" then stats()
elseif verb == "export" then export(args[2])
elseif verb == "import" then import(args[2])
else
  io.stderr:write("usage: slmmux store stats|export [FILE]|import FILE [--store PATH]\n")
  os.exit(2)
end
