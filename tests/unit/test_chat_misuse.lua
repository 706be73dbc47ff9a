-- mux.chat misuse caught by pcall leaks nothing: the call's C state lives in
-- a userdata the collector frees, so RSS stays flat over 10,000 caught
-- misuses of three kinds (unknown field, bad messages, bad n), each with a
-- prompt large enough that a leak would show (the request is built, then
-- rejected).
local mux = require "slmmux"

-- nothing listens there: no request is ever sent, every call is a misuse
mux.endpoint("misuse", {base_url = "http://127.0.0.1:9/v1"})

local page = tonumber(io.popen("getconf PAGESIZE"):read("l"))
local function rss_mb()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * page / 1048576
end

local prompt = {role = "user", content = string.rep("x", 8000)}
local misuses = {
  {model = "m", messages = {prompt}, endpoint = "misuse", colour = "red"},
  {model = "m", messages = {prompt, {role = "user", content = 7}}, endpoint = "misuse"},
  {model = "m", messages = {prompt}, endpoint = "misuse", n = 0},
}

local function run(times)
  for i = 1, times do
    local ok, err = pcall(mux.chat, misuses[i % #misuses + 1])
    assert(not ok, "a misuse must raise")
  end
end

-- AddressSanitizer keeps freed memory in quarantine, so RSS says nothing
-- there; the misuses still run, for it to check the frees.
local function under_asan()
  local maps = assert(io.open("/proc/self/maps"))
  local found = maps:read("a"):find("libasan", 1, true)
  maps:close()
  return found
end
if under_asan() then
  run(10000)
  print("RSS not measured under AddressSanitizer")
  print("1 passed, 0 failed")
  return
end

run(1000)         -- the allocator and the collector reach their steady state
collectgarbage()
local before = rss_mb()
run(10000)
collectgarbage()
local grown = rss_mb() - before
print(string.format("RSS %.1f MB -> %.1f MB over 10000 caught misuses", before, before + grown))
assert(grown < 5, string.format("RSS grew %.1f MB over 10000 caught mux.chat misuses", grown))
print("1 passed, 0 failed")
