-- Load for bench_http.sh: N chat requests through mux.chat, C in flight.
-- -s url=... -s requests=N -s concurrency=C
local mux = require "slmmux"
local o = mux.cli.overrides
local n, c = tonumber(o.requests), tonumber(o.concurrency)
mux.endpoint("bench", { base_url = o.url, max_concurrency = c, max_retries = 0,
                        connect_timeout = 30, timeout = 120 })
mux.set_concurrency(c)
local items = {}
for i = 1, n do items[i] = i end
local t0 = mux.now()
local errors, first_error = 0, nil
mux.map(items, function(i)
  local resp, err = mux.chat{ endpoint = "bench", model = "bench-model", max_tokens = 32,
                              messages = { { role = "user", content = "question " .. i } } }
  if not resp then
    errors = errors + 1
    first_error = first_error or err
  end
end, { concurrency = c })
local wall = mux.now() - t0
print(string.format("RESULT wall=%.4f errors=%d", wall, errors))
if first_error then io.stderr:write("first error: ", first_error, "\n") end
