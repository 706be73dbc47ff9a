-- Rate limits as the trusted clients handle them (issue: nothing lost,
-- nothing stalled, part 1): a burst of 429s at the start of a run costs about
-- its Retry-After and loses nothing; without Retry-After too; one model's
-- 429 storm leaves another model on the same endpoint at its normal pace;
-- the provider's code is in the final error; mux.stats() shows requests
-- held by a rate limit and requests waiting to retry. Time bounds are
-- generous (the machine is shared); tests/bench/bench_ratelimit.sh has the
-- tight figures.
local mux = require "slmmux"
package.path = mux.home .. "/tests/lib/?.lua;" .. package.path
local fake = require "fake"

local passed, failed = 0, 0
local function check(name, fn)
  local ok, err = pcall(fn)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. ": " .. tostring(err)) end
end

local endpoints = 0
local function endpoint(server, opts)
  endpoints = endpoints + 1
  local name = "rl" .. endpoints
  local ep = { base_url = server.url, timeout = 20, connect_timeout = 5 }
  for k, v in pairs(opts or {}) do ep[k] = v end
  mux.endpoint(name, ep)
  return name
end

-- n requests of model, all queued at once; returns successes, the first
-- error, and the time the last one finished (from t0)
local function burst(ep, model, n, t0)
  local ok, first_err, last = 0, nil, 0
  local items = {}
  for i = 1, n do items[i] = i end
  mux.map(items, function(i)
    local resp, err = mux.chat{ endpoint = ep, model = model, max_tokens = 8,
                                messages = { { role = "user", content = model .. " question " .. i } } }
    if resp then ok = ok + 1 else first_err = first_err or err end
    last = math.max(last, mux.now() - t0)
  end)
  return ok, first_err, last
end

local function steps(n, step)
  local out = {}
  for i = 1, n do out[i] = step end
  return out
end

check("100 429s with Retry-After: 1 at the start cost about a second, and lose nothing", function()
  local server = fake.start{ latency_ms = 20, script = { rules = {
    { model = "*", steps = steps(100, { status = 429, headers = { ["retry-after"] = "1" } }) } } } }
  local ep = endpoint(server)
  local t0 = mux.now()
  local ok, err, last = burst(ep, "m", 1000, t0)
  server.stop()
  assert(ok == 1000, ok .. " of 1000 succeeded; first error: " .. tostring(err))
  -- ideal: 1 s of Retry-After + 1000 requests at 20 ms, 256 at once
  print(string.format("     1000 requests in %.2f s", last))
  assert(last < 6, "took " .. last .. " s")
end)

check("100 429s without Retry-After at the start: backoff, and nothing lost", function()
  local server = fake.start{ latency_ms = 20, script = { rules = {
    { model = "*", steps = steps(100, { status = 429 }) } } } }
  local ep = endpoint(server)
  local t0 = mux.now()
  local ok, err, last = burst(ep, "m", 1000, t0)
  server.stop()
  assert(ok == 1000, ok .. " of 1000 succeeded; first error: " .. tostring(err))
  print(string.format("     1000 requests in %.2f s", last))
  assert(last < 8, "took " .. last .. " s")
end)

check("one model's 429 storm leaves another model on the endpoint at its pace", function()
  local server = fake.start{ latency_ms = 50, script = { rules = {
    { model = "stormy", limit = { rps = 50, retry_after = "none" } } } } }
  local ep = endpoint(server)
  local t0 = mux.now()
  local _, _, alone = burst(ep, "calm", 1000, t0)
  local stormy_ok, stormy_err
  local storm = mux.spawn(function()
    stormy_ok, stormy_err = burst(ep, "stormy", 250, mux.now())
  end)
  mux.sleep(0.2)      -- the storm is raging by now
  local t1 = mux.now()
  local calm_ok, calm_err, beside = burst(ep, "calm", 1000, t1)
  local limited = mux.stats().rate_limited
  mux.wait(storm)
  server.stop()
  assert(calm_ok == 1000, "calm: " .. calm_ok .. " of 1000; " .. tostring(calm_err))
  assert(limited > 50, "no storm: " .. limited .. " 429s")
  print(string.format("     calm model alone %.2f s, beside the storm %.2f s (%d 429s)", alone, beside, limited))
  assert(beside < 2 * alone + 1, string.format("calm model alone %.2f s, beside the storm %.2f s", alone, beside))
  assert(stormy_ok == 250, "stormy: " .. tostring(stormy_ok) .. " of 250; " .. tostring(stormy_err))
end)

check("the final error of a quota shows the provider's code", function()
  local server = fake.start{ script = { rules = { { model = "*", ["then"] = { status = 429,
    body = '{"error":{"message":null,"type":null,"code":"insufficient_quota"}}' } } } } }
  local ep = endpoint(server)
  local resp, err, info = mux.chat{ endpoint = ep, model = "m", messages = { { role = "user", content = "q" } } }
  server.stop()
  assert(resp == nil and info.kind == "quota" and info.attempts == 1, tostring(err))
  assert(err:find("insufficient_quota", 1, true), err)
end)

check("mux.stats() counts requests held by a Retry-After and requests in backoff", function()
  local server = fake.start{ script = { rules = {
    { model = "limited", steps = { { status = 429, headers = { ["retry-after"] = "1" } } } },
    { model = "broken", steps = { { status = 500 } } } } } }
  local ep = endpoint(server)
  local a = mux.spawn(function()
    return mux.chat{ endpoint = ep, model = "limited", messages = { { role = "user", content = "a" } } } end)
  local b = mux.spawn(function()
    return mux.chat{ endpoint = ep, model = "broken", messages = { { role = "user", content = "b" } } } end)
  local c = mux.spawn(function()   -- held behind its model's gate, not sent
    mux.sleep(0.15)
    return mux.chat{ endpoint = ep, model = "limited", messages = { { role = "user", content = "c" } } } end)
  mux.sleep(0.25)
  local st = mux.stats()
  assert(mux.wait(a) and mux.wait(b) and mux.wait(c))
  server.stop()
  assert(st.rate_limit_waiting == 2, "rate_limit_waiting " .. tostring(st.rate_limit_waiting))
  assert(st.backoff == 1, "backoff " .. tostring(st.backoff))
  assert(st.in_flight == 0 and st.queued == 0, "in_flight " .. tostring(st.in_flight) .. " queued " .. tostring(st.queued))
  local after = mux.stats()
  assert(after.rate_limit_waiting == 0 and after.backoff == 0)
end)

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
