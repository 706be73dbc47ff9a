-- Provider quirks handled with no configuration (issue: real endpoints and
-- real scale, part 2), each against the fake server imitating that server
-- (tests/fake/README.md, --mimic): servers that refuse n > 1 (llama.cpp's
-- 500 and 400 wordings, vLLM with greedy sampling) or ignore it (Ollama) are
-- sampled one request per sample from the first reply on, without failing;
-- Together's and Ollama's 503s are retried; a 404 on a URL without /v1 says
-- so; a key_env naming an unset variable is refused when the endpoint is
-- made.
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
local function endpoint(base_url, opts)
  endpoints = endpoints + 1
  local name = "quirk" .. endpoints
  local ep = { base_url = base_url, timeout = 10, retry_budget = 20 }
  for k, v in pairs(opts or {}) do ep[k] = v end
  mux.endpoint(name, ep)
  return name
end

local function ask(ep, extra)
  local req = { endpoint = ep, model = "m", max_tokens = 16,
                messages = { { role = "user", content = "What is 2+2?" } } }
  for k, v in pairs(extra or {}) do req[k] = v end
  return mux.chat(req)
end

local function ns(server)
  local out = {}
  for _, r in ipairs(server.requests()) do out[#out + 1] = string.format("%d:%d", r.n, r.status) end
  return table.concat(out, " ")
end

local function refuses_n(mimic, wording_status, extra)
  check(mimic .. " refuses n > 1 (" .. wording_status .. "): learnt on the first reply, samples asked one by one", function()
    local server = fake.start{ mimic = mimic }
    local ep = endpoint(server.url)
    local errors_before = mux.stats().errors
    local req = { n = 3, seed = 5 }
    for k, v in pairs(extra or {}) do req[k] = v end
    local resp, err = ask(ep, req)
    assert(resp, err)
    assert(#resp.choices == 3, #resp.choices .. " choices")
    local seen = server.requests()
    assert(#seen == 4, "requests: " .. ns(server))
    assert(seen[1].n == 3 and seen[1].status == wording_status, "first: " .. ns(server))
    local seeds = {}
    for i = 2, 4 do
      assert(seen[i].n == 1 and seen[i].status == 200, ns(server))
      seeds[#seeds + 1] = string.format("%d", seen[i].seed)
    end
    table.sort(seeds)   -- as strings: one digit each
    assert(table.concat(seeds, ",") == "5,6,7", "seeds " .. table.concat(seeds, ","))
    -- from now on one request per sample, never n > 1 again
    req.messages = { { role = "user", content = "And 3+3?" } }
    assert(#assert(ask(ep, req)).choices == 3)
    seen = server.requests()
    assert(#seen == 7, "requests: " .. ns(server))
    for i = 5, 7 do assert(seen[i].n == 1, ns(server)) end
    assert(mux.stats().errors == errors_before, "a refusal of n counted as an error")
    server.stop()
  end)
end

refuses_n("llamacpp", 500, { temperature = 0.7 })
refuses_n("llamacpp400", 400, { temperature = 0.7 })
refuses_n("vllm", 400, { temperature = 0 })

check("vllm with temperature > 0 keeps n in one request", function()
  local server = fake.start{ mimic = "vllm" }
  local ep = endpoint(server.url)
  local resp, err = ask(ep, { n = 3, temperature = 0.7 })
  assert(resp and #resp.choices == 3, err)
  assert(ns(server) == "3:200", ns(server))
  server.stop()
end)

check("ollama ignores n: the missing samples are asked one by one", function()
  local server = fake.start{ mimic = "ollama" }
  local ep = endpoint(server.url)
  local resp, err = ask(ep, { n = 3, temperature = 0.7 })
  assert(resp and #resp.choices == 3, err)
  assert(ns(server) == "3:200 1:200 1:200", ns(server))
  server.stop()
end)

local function busy(mimic, name)
  check(name .. ": 503s under a burst are retried, none lost", function()
    local server = fake.start{ mimic = mimic, latency_ms = 50, script = { rules = {
      { model = "*", limit = { concurrency = 8, status = 503, retry_after = "none" } } } } }
    local ep = endpoint(server.url)
    local items = {}
    for i = 1, 60 do items[i] = i end
    local failures = {}
    mux.map(items, function(i)
      local resp, err = ask(ep, { messages = { { role = "user", content = "q" .. i } } })
      if not resp then failures[#failures + 1] = err end
    end)
    local statuses = {}
    for _, r in ipairs(server.requests()) do statuses[r.status] = (statuses[r.status] or 0) + 1 end
    server.stop()
    assert(#failures == 0, #failures .. " failed: " .. tostring(failures[1]))
    assert((statuses[503] or 0) > 0, "the server never said 503")
  end)
end
busy("together", "Together under dynamic rate")
busy("ollama", "Ollama with its queue full")

check("a 404 from a base URL without /v1 suggests the suffix, at once", function()
  local server = fake.start{ mimic = "vllm" }
  local ep = endpoint(server.root)
  local resp, err, info = ask(ep)
  server.stop()
  assert(resp == nil and info.status == 404 and info.attempts == 1, tostring(err))
  assert(err:find('try base_url = "' .. server.root .. '/v1"', 1, true), err)
end)

check("a 404 from a URL that has /v1 gives no such hint", function()
  local server = fake.start{ mimic = "vllm" }
  local ep = endpoint(server.url .. "/v1")
  local resp, err = ask(ep)
  server.stop()
  assert(resp == nil and not err:find("try base_url", 1, true), tostring(err))
end)

check("a key_env naming an unset variable is refused when the endpoint is made, by name", function()
  local ok, err = pcall(mux.endpoint, "nokey", { base_url = "http://127.0.0.1:9/v1",
                                                key_env = "SLMMUX_TEST_SURELY_UNSET_KEY" })
  assert(not ok, "accepted")
  assert(tostring(err):find("SLMMUX_TEST_SURELY_UNSET_KEY", 1, true), tostring(err))
end)

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
