-- Samples are reused: raising k from 3 to 5 pays for samples 3 and 4 only;
-- --offline replays stored samples and names a missing one.
local mux = require "slmmux"
package.path = mux.home .. "/tests/lib/?.lua;" .. package.path
local fake = require "fake"

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local server = fake.start()
local store_path = os.tmpname() .. ".sqlite"
assert(mux.use_store(store_path))
mux.endpoint("fake", { base_url = server.url })
local function ask(k, extra)
  local req = { endpoint = "fake", model = "m", seed = 7, n = k,
                messages = { { role = "user", content = "reuse me" } } }
  for key, v in pairs(extra or {}) do req[key] = v end
  return mux.chat(req)
end

local r3 = assert(ask(3))
local log = server.requests()
check("the first call sends one request with n = 3", #log == 1 and log[1].n == 3, #log .. " requests")
local r5 = assert(ask(5))
log = server.requests()
check("raising k to 5 sends one more request, for samples 3 and 4 only",
  #log == 2 and log[2].n == 2 and log[2].seed == 7 + 3,
  string.format("%d requests, last n=%s seed=%s", #log, tostring(log[#log].n), tostring(log[#log].seed)))
check("the stored samples come back unchanged",
  r5.choices[1].text == r3.choices[1].text and r5.choices[3].text == r3.choices[3].text)
check("stored samples are marked cached", r5.cached == 3 and r5.choices[1].cached and not r5.choices[5].cached)
local fresh = assert(ask(5, { seed = 8 }))
check("another seed is another prompt identity", fresh.cached == 0)

-- the same as an uninterrupted k = 5 run on a fresh store
assert(mux.use_store(store_path .. "2"))
local direct = assert(ask(5))
local same = true
for i = 1, 5 do same = same and direct.choices[i].text == r5.choices[i].text end
check("samples 3 and 4 equal those of an uninterrupted k = 5 run", same)

-- offline: nothing goes to the network
assert(mux.use_store(store_path))
mux.set_offline(true)
local before = #server.requests()
local again = ask(5)
check("offline, stored samples replay", again and again.cached == 5)
local resp, err, info = ask(6)
check("offline, a missing sample is an error naming it",
  resp == nil and info.kind == "offline" and err:find("sample 5", 1, true) ~= nil, tostring(err))
check("offline sent nothing", #server.requests() == before)
mux.set_offline(false)

server.stop()
os.remove(store_path)
os.remove(store_path .. "2")
print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
