-- Load for test_store_kill.sh: P prompts x 2 samples, one request per sample
-- (supports_n = false), with a seed so the fake server answers
-- deterministically. Writes every sample's text, in prompt order, to -s result.
local mux = require "slmmux"
local o = mux.cli.overrides
mux.endpoint("fake", { base_url = o.url, supports_n = false, max_concurrency = 8,
                       max_retries = 2 })
local n = tonumber(o.prompts)
local items = {}
for i = 1, n do items[i] = i end
local out = mux.map(items, function(i)
  local r, err = mux.chat{ endpoint = "fake", model = "m" .. i, seed = 100,
                           messages = { { role = "user", content = "question " .. i } }, n = 2 }
  if not r then error(err) end
  return r.choices[1].text .. " | " .. r.choices[2].text
end, { concurrency = 128 })
local f = assert(io.open(o.result, "w"))
for i = 1, n do f:write(out[i], "\n") end
f:close()
