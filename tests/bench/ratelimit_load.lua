-- Load for bench_ratelimit.sh: -s url=... -s calm=N [-s stormy=M]: N requests of
-- model "calm" (and M of "stormy", started first) all queued at once, at the
-- endpoint's default limits. Prints the wall time of each model's last reply
-- and the requests lost.
local mux = require "slmmux"
local o = mux.cli.overrides
mux.endpoint("bench", { base_url = o.url, timeout = 120 })
local function burst(model, n, t0)
  local items, lost, last = {}, 0, 0
  for i = 1, n do items[i] = i end
  mux.map(items, function(i)
    local resp = mux.chat{ endpoint = "bench", model = model, max_tokens = 8,
                           messages = { { role = "user", content = model .. " " .. i } } }
    if not resp then lost = lost + 1 end
    last = math.max(last, mux.now() - t0)
  end)
  return last, lost
end
local t0 = mux.now()
local storm
if tonumber(o.stormy or 0) > 0 then
  storm = mux.spawn(burst, "stormy", tonumber(o.stormy), t0)
  mux.sleep(0.2)
end
local t1 = mux.now()
local wall, lost = burst("calm", tonumber(o.calm), t1)
local st = mux.stats()
print(string.format("RESULT calm_wall=%.4f calm_lost=%d rate_limited=%d", wall, lost, st.rate_limited))
if storm then
  local swall, slost = mux.wait(storm)
  print(string.format("RESULT stormy_wall=%.4f stormy_lost=%d", swall, slost))
end
