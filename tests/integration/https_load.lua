-- For test_https.sh: requests through nginx (TLS, HTTP/2) to the fake server.
-- -s url=https://... -s ca=FILE -s requests=N [-s model=M] [-s hup=PID]
-- [-s concurrency=C] (requests in flight; default the endpoint's)
-- Prints "RESULT ok=N lost=N retries=N wall=S first_error=..."; with hup, nginx is
-- reloaded (SIGHUP: old workers finish their streams and send GOAWAY) while
-- the requests are in flight.
local mux = require "slmmux"
local o = mux.cli.overrides
local ep = { base_url = o.url, timeout = 30, retry_budget = 60 }
if o.ca ~= "none" then ep.ca_file = o.ca end
if o.concurrency then ep.max_concurrency = tonumber(o.concurrency) end
mux.endpoint("tls", ep)
local n, model = tonumber(o.requests), o.model or "m"
local items = {}
for i = 1, n do items[i] = i end
local ok, lost, first = 0, 0, nil
local t0 = mux.now()
if o.hup then
  mux.spawn(function()
    mux.sleep(0.15)
    os.execute("kill -HUP " .. o.hup)
  end)
end
mux.map(items, function(i)
  local resp, err, info = mux.chat{ endpoint = "tls", model = model, max_tokens = 8,
                                    messages = { { role = "user", content = "q " .. i } } }
  if resp then ok = ok + 1 else
    lost = lost + 1
    first = first or (err .. " [kind " .. tostring(info.kind) .. ", attempts " .. tostring(info.attempts) .. "]")
  end
end)
print(string.format("RESULT ok=%d lost=%d retries=%d wall=%.4f first_error=%s", ok, lost,
                    mux.stats().retries, mux.now() - t0, tostring(first)))
