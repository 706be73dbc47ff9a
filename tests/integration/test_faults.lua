-- The retry and error rules of the HTTP client (issue: the slmmux host, part 5),
-- each against a scripted loopback server. Every case names its rule.
-- Most cases wait (retry pauses, timeouts), so they run as tasks, a few at a
-- time, each with its own server and endpoint; results print in case order.
local mux = require "slmmux"
package.path = mux.home .. "/tests/lib/?.lua;" .. package.path
local fake = require "fake"

local user = { { role = "user", content = "What is 2+2?" } }
local cases = {}
local AT_ONCE = 8   -- fake servers at once; the stall case alone takes ~7.5 s (curl's speed check)

-- script: the rules, or a function returning them when the case starts (a
-- rule that holds a time must not be computed while the case waits its turn).
local function case(name, script, endpoint_opts, body)
  cases[#cases + 1] = { name = name, script = script, endpoint_opts = endpoint_opts, body = body }
end

-- One fake server per case keeps the step counters independent.
local function run_case(c, i)
  local script = type(c.script) == "function" and c.script() or c.script
  local server = fake.start{ script = { rules = script } }
  local ep = { base_url = server.url, retry_budget = 20, timeout = 10, stall_timeout = 5,
               connect_timeout = 2 }
  for k, v in pairs(c.endpoint_opts or {}) do ep[k] = v end
  local ep_name = "case" .. i
  mux.endpoint(ep_name, ep)
  local ok, err = pcall(c.body, ep_name, server)
  server.stop()
  return { ok = ok, err = err }
end

local function chat(ep, model, extra)
  local req = { endpoint = ep, model = model or "m", messages = user, max_tokens = 16 }
  for k, v in pairs(extra or {}) do req[k] = v end
  local t0 = mux.now()
  local resp, err, info = mux.chat(req)
  return resp, err, info, mux.now() - t0
end

local function retried_then_ok(name, step)
  case(name, { { model = "*", steps = { step } } }, nil, function(ep)
    local resp, err = chat(ep)
    assert(resp, err)
    assert(resp.attempts == 2, "attempts " .. tostring(resp.attempts))
  end)
end

local function not_retried(name, step, kind, pattern)
  case(name, { { model = "*", steps = { step } } }, nil, function(ep)
    local resp, err, info = chat(ep)
    assert(resp == nil, "expected an error")
    assert(info.attempts == 1, "attempts " .. tostring(info.attempts))
    assert(info.kind == kind, "kind " .. tostring(info.kind))
    if pattern then assert(err:find(pattern, 1, true), err) end
  end)
end

case("a normal reply with n = 3 has three choices and usage", nil, nil, function(ep)
  local resp = assert(chat(ep, "m", { n = 3 }))
  assert(#resp.choices == 3)
  for i = 1, 3 do assert(resp.choices[i].text:find("\\boxed{", 1, true)) end
  assert(resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens > 0)
  assert(resp.attempts == 1)
end)

retried_then_ok("a connection reset is retried", { reset = true })
retried_then_ok("an empty reply is retried", { empty_reply = true })
retried_then_ok("408 is retried", { status = 408, body = "{}" })
retried_then_ok("409 is retried", { status = 409, body = "{}" })
retried_then_ok("429 is retried", { status = 429, body = '{"error":{"message":"slow down","type":"rate_limit"}}' })
retried_then_ok("500 is retried", { status = 500, body = "oops" })
retried_then_ok("503 is retried", { status = 503, body = "{}" })
retried_then_ok("x-should-retry: true makes a 400 retried",
  { status = 400, body = "{}", headers = { ["x-should-retry"] = "true" } })
retried_then_ok("malformed JSON in a 200 is retried", { body = '{"choices": [' })
retried_then_ok("a 200 without choices is retried", { body = '{"id":"x","object":"chat.completion"}' })
retried_then_ok("an overloaded error inside a 200 body is retried",
  { body = '{"error":{"message":"overloaded","type":"server_error","code":503}}' })

not_retried("429 insufficient_quota is final", { status = 429,
  body = '{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}' },
  "quota", "exceeded your current quota")
not_retried("402 is final", { status = 402, body = '{"error":{"message":"pay up"}}' }, "quota", "pay up")
not_retried("x-should-retry: false makes a 503 final",
  { status = 503, body = "{}", headers = { ["x-should-retry"] = "false" } }, "http")
not_retried("a 400 returns the provider's message (OpenAI shape)", { status = 400,
  body = '{"error":{"message":"This model\'s maximum context length is 4096 tokens","type":"invalid_request_error"}}' },
  "http", "maximum context length is 4096")
not_retried("a 400 returns the provider's message (vLLM object:error shape)", { status = 400,
  body = '{"object":"error","message":"context too long for vllm","type":"BadRequestError","code":400}' },
  "http", "context too long for vllm")
not_retried("an invalid-request error inside a 200 body is final",
  { body = '{"error":{"message":"bad request in 200","code":400}}' }, "http", "bad request in 200")
not_retried("a redirect is not followed", { status = 302, body = "",
  headers = { location = "http://127.0.0.1:1/elsewhere" } }, "http", "302")

case("retry-after-ms is honoured", { { model = "*", steps = {
    { status = 429, body = "{}", headers = { ["retry-after-ms"] = "400" } } } } }, nil, function(ep)
  local resp, err, _, dt = chat(ep)
  assert(resp, err)
  assert(dt >= 0.38, "waited only " .. dt)
  assert(dt < 2.0, "waited too long: " .. dt)
end)

case("Retry-After in seconds is honoured", { { model = "*", steps = {
    { status = 503, body = "{}", headers = { ["retry-after"] = "1" } } } } }, nil, function(ep)
  local resp, err, _, dt = chat(ep)
  assert(resp, err)
  assert(dt >= 0.95, "waited only " .. dt)
end)

case("Retry-After as an HTTP date is honoured", function() return { { model = "*", steps = {
    { status = 503, body = "{}", headers = { ["retry-after"] = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 2) } } } } } end,
  nil, function(ep)
  local resp, err, _, dt = chat(ep)
  assert(resp, err)
  assert(dt >= 0.9, "waited only " .. dt)
end)

case("without retry-after, backoff grows between attempts", { { model = "*", steps = {
    { status = 500, body = "{}" }, { status = 500, body = "{}" } } } }, nil, function(ep)
  local resp, err, _, dt = chat(ep)
  assert(resp, err)
  assert(resp.attempts == 3)
  -- base 0.5 s, doubling, jitter at most -25%: 0.375 + 0.75 at least
  assert(dt >= 1.1, "waited only " .. dt)
end)

case("a 429's Retry-After holds its model's new requests, not another model's", { { model = "first", steps = {
    { status = 429, body = "{}", headers = { ["retry-after-ms"] = "700" } } } } }, nil, function(ep, server)
  local t0 = mux.now()
  local a = mux.spawn(function() return chat(ep, "first") end)
  -- The hold starts when the 429 arrives: wait until the server has
  -- answered the first request, then give the reply time to land (a fixed
  -- 0.15 s was too short under make asan on a loaded machine).
  for _ = 1, 150 do
    if #server.requests() >= 1 then break end
    mux.sleep(0.02)
  end
  mux.sleep(0.15)
  local other = mux.spawn(function() return chat(ep, "second") end)
  local same = assert(chat(ep, "first", { messages = { { role = "user", content = "another" } } }))
  local waited = mux.now() - t0
  assert(waited >= 0.65, "a request of the held model went out during the hold: " .. waited)
  local resp, err, _, dt = mux.wait(other)
  assert(resp, err)
  assert(dt < 0.4, "the other model waited " .. dt)
  assert(same.attempts == 1)
  assert(mux.wait(a))
end)

case("a request gives up when its retry budget is spent, not after a count", { { model = "*", ["then"] = { status = 500, body = "still broken" } } }, { retry_budget = 1.5 }, function(ep)
  local resp, err, info, dt = chat(ep)
  assert(resp == nil)
  -- backoff 0.5 s then 1 s (less jitter), and the next would end past 1.5 s
  assert(info.attempts >= 2 and info.attempts <= 3, "attempts " .. tostring(info.attempts))
  assert(dt >= 0.3 and dt < 1.6, "gave up after " .. dt)
  assert(err:find("attempts over", 1, true), err)
end)

case("retries stop at max_retries and say how many attempts", { { model = "*", ["then"] = { status = 500, body = "still broken" } } }, { max_retries = 2 }, function(ep)
  local resp, err, info = chat(ep)
  assert(resp == nil)
  assert(info.attempts == 3, "attempts " .. tostring(info.attempts))
  assert(err:find("3 attempts", 1, true), err)
end)

case("empty content is returned as such, not as an error", { { model = "*", steps = {
    { content = "" } } } }, nil, function(ep)
  local resp, err = chat(ep)
  assert(resp, err)
  assert(resp.choices[1].text == "")
end)

case("null content is returned as a choice without text", { { model = "*", steps = {
    { content_null = true } } } }, nil, function(ep)
  local resp, err = chat(ep)
  assert(resp, err)
  assert(resp.choices[1].text == nil)
end)

case("finish_reason length is returned as such", { { model = "*", steps = {
    { finish_reason = "length" } } } }, nil, function(ep)
  local resp, err = chat(ep)
  assert(resp, err)
  assert(resp.choices[1].finish_reason == "length")
end)

case("a reply without usage still succeeds with zero tokens", { { model = "*", steps = {
    { omit = { "usage" } } } } }, nil, function(ep)
  local resp, err = chat(ep)
  assert(resp, err)
  assert(resp.usage.prompt_tokens == 0)
end)

case("a 10 MB body arrives whole", { { model = "*", steps = {
    { big_body_bytes = 10 * 1024 * 1024 } } } }, nil, function(ep)
  local resp, err = chat(ep)
  assert(resp, err)
  assert(#resp.choices[1].text == 10 * 1024 * 1024, #resp.choices[1].text)
end)

case("invalid UTF-8 in content arrives byte for byte", { { model = "*", steps = {
    { invalid_utf8 = true } } } }, nil, function(ep)
  local resp, err = chat(ep)
  assert(resp, err)
  assert(resp.choices[1].text:find("\xff\xfe", 1, true))
end)

case("a stalled reply hits the stall timeout and is retried", { { model = "*", steps = {
    { drip_ms = 2500 } } } }, { stall_timeout = 1 }, function(ep)
  local resp, err = chat(ep)
  assert(resp, err)
  assert(resp.attempts == 2, "attempts " .. tostring(resp.attempts))
end)

case("a server that never answers hits the total timeout", { { model = "*", ["then"] = { hang = true } } }, { timeout = 1, max_retries = 1 }, function(ep)
  local resp, _, info, dt = chat(ep)
  assert(resp == nil)
  assert(info.kind == "timeout", info.kind)
  assert(dt < 8, "took " .. dt)
end)

-- The server is started but not used: the endpoint points at a closed port.
case("a refused connection is retried, then reported as transport", nil,
  { base_url = "http://127.0.0.1:9/v1", max_retries = 1, connect_timeout = 1 }, function(ep)
  local resp, err, info = chat(ep)
  assert(resp == nil and info.kind == "transport" and info.attempts == 2, tostring(err))
end)

local results = mux.map(cases, run_case, { concurrency = AT_ONCE })
local failures = 0
for i, c in ipairs(cases) do
  if results[i].ok then
    print("ok   " .. c.name)
  else
    failures = failures + 1
    print("FAIL " .. c.name .. ": " .. tostring(results[i].err))
  end
end
print(string.format("%d passed, %d failed", #cases - failures, failures))
if failures > 0 then os.exit(1) end
