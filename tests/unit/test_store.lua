-- test_store.lua: the Lua face of the sample store (src/bind/store.c).
-- Run: ./slmmux run tests/unit/test_store.lua
local mux = require "slmmux"

local base = os.tmpname()
local path = base .. ".sqlite"
local function cleanup()
  for _, p in ipairs { base, path, path .. "-wal", path .. "-shm", base .. ".junk" } do os.remove(p) end
end

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern, 1, true), "error '" .. tostring(err) .. "' lacks '" .. pattern .. "'")
end

-- hash: the prompt key, 64 lowercase hex digits
assert(mux.store.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
assert(mux.store.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
assert(mux.store.hash("a\0b") ~= mux.store.hash("a"), "hash must see past a NUL byte")

local st = assert(mux.store.open(path))
local key = mux.store.hash("request one")
local raw = key:gsub("..", function(h) return string.char(tonumber(h, 16)) end)
assert(#raw == 32)

-- round trip: NUL bytes and invalid UTF-8 survive, null content stays nil
local text = "x\0y\255z"
assert(st:put(key, "request one", 0, { text = text, finish_reason = "stop", prompt_tokens = 12,
  completion_tokens = 34, latency_ms = 56.5, model = "m-1", created = 1700000000.5 }) == true)
assert(st:put(key, "request one", 1, { finish_reason = "length" }) == true)
assert(st:pending() == 2)
local got = st:lookup(key, 3)
assert(#got == 3 and got[3] == false)
assert(got[1].text == text and #got[1].text == 5)
assert(got[1].finish_reason == "stop" and got[1].model == "m-1")
assert(got[1].prompt_tokens == 12 and got[1].completion_tokens == 34)
assert(got[1].latency_ms == 56.5 and got[1].created == 1700000000.5)
assert(got[2].text == nil and got[2].finish_reason == "length" and got[2].created > 1.6e9)
assert(st:lookup(raw, 1)[1].text == text, "a raw 32-byte key names the same prompt")
assert(#st:lookup(key, 0) == 0)

-- first writer wins
assert(st:put(key:upper(), nil, 0, { text = "other" }) == false)
assert(st:lookup(key, 1)[1].text == text)
assert(st:commit() == true and st:pending() == 0)

-- misuse raises, naming the argument
raises("key must be 64 hex digits", function() return st:lookup("xyz", 1) end)
raises("key must be 64 hex digits", function() return st:put(key:sub(2) .. "g", nil, 0, {}) end)
raises("store:put: idx must be an integer from 0 to", function() return st:put(key, nil, -1, {}) end)
raises("sample.text must be a string", function() return st:put(key, nil, 5, { text = 42 }) end)
raises("sample.prompt_tokens", function() return st:put(key, nil, 5, { prompt_tokens = 1.5 }) end)
raises("store:lookup: k must be", function() return st:lookup(key, -1) end)
raises("mux.store.open: unknown field opts.read_only", mux.store.open, path, { read_only = true })
assert(st:pending() == 0, "a rejected put stores nothing")

-- each: every sample once, by key then index; false stops; errors propagate
local k2 = mux.store.hash("request two")
for i = 0, 2 do assert(st:put(k2, "request two", i, { text = "t" .. i })) end
assert(st:commit() == true, "each visits committed samples")
local seen, requests = {}, {}
assert(st:each(function(k, req, idx, sample)
  seen[#seen + 1] = k .. ":" .. idx
  requests[k] = req
  assert(type(sample) == "table")
end) == 5)
assert(#seen == 5 and requests[key] == "request one" and requests[k2] == "request two")
for i = 2, #seen do assert(seen[i - 1] < seen[i], "ordered by key then index") end
assert(st:each(function() return false end) == 1)
raises("boom", function() st:each(function() error("boom") end) end)
assert(st:each(function() end) == 5, "the store is usable after an error inside each")

local whole, report = st:verify()
assert(whole == true and report.samples == 5 and report.prompts == 2 and report.checksums
  and report.damaged_samples == 0 and #report.problems == 0)

local s = st:stats()
assert(s.prompts == 2 and s.samples == 5 and s.bytes > 0)

-- closing commits; a closed store raises
assert(st:close() == true)
raises("store:lookup: the store is closed", function() return st:lookup(key, 1) end)
do
  local st2 <close> = assert(mux.store.open(path))
  assert(#st2:lookup(k2, 3) == 3 and st2:lookup(k2, 3)[3].text == "t2")
  assert(st2:put(k2, nil, 3, { text = "closed by <close>" }))
end
do
  local st3 = assert(mux.store.open(path))
  assert(st3:put(k2, nil, 4, { text = "closed by the collector" }))
  st3 = nil
  collectgarbage()
  collectgarbage()
end
local ro = assert(mux.store.open(path, { readonly = true }))
local five = ro:lookup(k2, 5)
assert(five[4].text == "closed by <close>" and five[5].text == "closed by the collector")
local ok, err = ro:put(k2, nil, 9, { text = "no" })
assert(ok == nil and err:find("read-only", 1, true))
ro:close()

-- runtime failures return nil, message
local f = assert(io.open(base .. ".junk", "wb"))
f:write(string.rep("not a database ", 500))
f:close()
local bad, msg = mux.store.open(base .. ".junk")
assert(bad == nil and msg:find("not a valid slmmux store", 1, true) and msg:find(base .. ".junk", 1, true))

cleanup()
print("test_store.lua: ok")
