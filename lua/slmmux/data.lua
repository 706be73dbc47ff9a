-- Dataset files: a JSON array, JSON Lines, or either compressed with gzip.
-- A malformed file stops the run with the file and the record (or line) at
-- fault, because a silently skipped record changes what the accuracy means.
local cjson = require "cjson"

local M = {}

--- Quotes s for /bin/sh.
function M.quote(s)
  return "'" .. s:gsub("'", [['\'']]) .. "'"
end

local function fail(path, fmt, ...)
  error(path .. ": " .. string.format(fmt, ...), 0)
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then error(err, 0) end
  local text = f:read("a")
  f:close()
  if not path:match("%.gz$") then return text end
  -- Decompress through gzip(1) rather than linking zlib into the host.
  local p = io.popen("gzip -dc -- " .. M.quote(path) .. " 2>/dev/null", "r")
  text = p:read("a")
  local ok, _, code = p:close()
  if not ok then fail(path, "gzip -dc failed (exit %s)", tostring(code)) end
  return text
end

-- cjson reports "at character N"; a line number is what a person can open.
local function where(text, msg)
  local at = tonumber(tostring(msg):match("character (%d+)"))
  if not at then return "" end
  local _, lines = text:sub(1, at):gsub("\n", "")
  return string.format(" (line %d)", lines + 1)
end

-- fields = {name = "string"|"number"|"table"|"any"}; absent or null is an error.
local function check(path, r, at, fields)
  if type(r) ~= "table" then fail(path, "%s: expected a JSON object", at) end
  for name, want in pairs(fields) do
    local v = r[name]
    if v == nil or v == cjson.null then
      fail(path, "%s: missing field '%s'", at, name)
    elseif want ~= "any" and type(v) ~= want then
      fail(path, "%s: field '%s' is a %s, expected a %s", at, name, type(v), want)
    end
  end
end

local function decode_array(path, text, fields)
  local ok, v = pcall(cjson.decode, text)
  if not ok then fail(path, "invalid JSON%s: %s", where(text, v), v) end
  if type(v) ~= "table" or (next(v) ~= nil and v[1] == nil) then
    fail(path, "expected a JSON array of records")
  end
  for i, r in ipairs(v) do check(path, r, "record " .. i, fields) end
  return v
end

-- Records are checked as they are read, so the first bad line is the one named.
local function decode_lines(path, text, fields)
  local records, n = {}, 0
  for line in (text:gsub("\r\n", "\n") .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if line:match("%S") then
      local ok, v = pcall(cjson.decode, line)
      if not ok then fail(path, "line %d: invalid JSON: %s", n, v) end
      records[#records + 1] = v
      check(path, v, string.format("record %d (line %d)", #records, n), fields)
    end
  end
  return records
end

local function is_lines(path, text)
  local base = path:gsub("%.gz$", "")
  if base:match("%.jsonl$") or base:match("%.ndjson$") then return true end
  if base:match("%.json$") then return false end
  return text:match("^%s*{") ~= nil
end

--- Loads the records of a dataset file.
-- opts.fields: required fields and their Lua types, checked for every record.
-- Returns the records (tables) in file order; each gets `_record` (1-based).
function M.load(path, opts)
  if type(path) ~= "string" then error("data.load: path must be a string", 2) end
  opts = opts or {}
  local text = read_file(path)
  local decode = is_lines(path, text) and decode_lines or decode_array
  local records = decode(path, text, opts.fields or {})
  if #records == 0 then fail(path, "no records") end
  for i, r in ipairs(records) do r._record = i end
  return records
end

--- Raises "path: record N: msg" for a record that passed the field check but
-- holds an unusable value (a task's own validation).
function M.bad_record(path, record, fmt, ...)
  fail(path, "record %d: " .. fmt, record._record or 0, ...)
end

--- Shuffles list in place with a seeded xorshift64 generator, so that the
-- same seed gives the same order on every machine (math.random does not).
function M.shuffle(list, seed)
  local x = (math.tointeger(seed) or 0) ~ 0x9E3779B97F4A7C15
  if x == 0 then x = 1 end
  for i = #list, 2, -1 do
    x = x ~ (x << 13); x = x ~ (x >> 7); x = x ~ (x << 17)
    local j = (x >> 1) % i + 1
    list[i], list[j] = list[j], list[i]
  end
  return list
end

return M
