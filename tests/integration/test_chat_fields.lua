-- mux.chat over HTTP: every OpenAI field passes through (provider-specific
-- ones in req.extra), the fields that change a reply are its identity and
-- the others are not, a place makes another sample without changing the
-- keys of calls without one, seeds are sent per sample (and per place),
-- and what a reply holds beyond its text (logprobs, reasoning_content,
-- system_fingerprint, usage details) comes back, also from the store.
-- Bad data: invalid UTF-8 is stored byte for byte; a content that is not a
-- string or null is an error and nothing is stored.
local mux = require "slmmux"
package.path = mux.home .. "/tests/lib/?.lua;" .. package.path
local fake = require "fake"

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local REASONED = '{"id":"x","model":"m","system_fingerprint":"fp_9","choices":['
  .. '{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"two and two"},'
  .. '"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":"5"},"finish_reason":"stop"}],'
  .. '"usage":{"prompt_tokens":10,"completion_tokens":6,"completion_tokens_details":{"reasoning_tokens":4}}}'
local server = fake.start{script = {rules = {
  {contains = "reasoned", steps = {{body = REASONED}}},
  {contains = "numeric content", steps = {{body = '{"choices":[{"index":0,"message":{"content":17}}]}'}}},
  {contains = "broken bytes", steps = {{invalid_utf8 = true}}},
}}}
local store_path = os.tmpname() .. ".sqlite"
assert(mux.use_store(store_path))
mux.endpoint("fake", {base_url = server.url, max_retries = 0})

local function ask(content, extra)
  local req = {endpoint = "fake", model = "m", messages = {{role = "user", content = content}}}
  for k, v in pairs(extra or {}) do req[k] = v end
  return mux.chat(req)
end
local function last() local log = server.requests(); return log[#log], #log end
local function has(list, x) for _, v in ipairs(list) do if v == x then return true end end end

-- 1. Pass-through: the server sees every field; logprobs come back per token.
local r = assert(ask("pass through", {logprobs = true, top_logprobs = 2, reasoning_effort = "low",
  response_format = {type = "json_object"}, presence_penalty = 0.5, stop = {"\n\n"},
  user = "tester", extra = {top_k = 20}}))
local seen = last().fields
local all = true
for _, f in ipairs({"logprobs", "top_logprobs", "reasoning_effort", "response_format",
    "presence_penalty", "stop", "user", "top_k"}) do all = all and has(seen, f) end
check("every OpenAI field and req.extra reach the server", all, table.concat(seen, ","))
check("place and extra themselves are never sent", not has(seen, "place") and not has(seen, "extra"))
local toks, joined = r.choices[1].logprobs, {}
for i, t in ipairs(toks or {}) do joined[i] = t.token end
check("per-token logprobs come back and spell the text",
  toks and #toks > 1 and table.concat(joined) == r.choices[1].text and toks[1].logprob <= 0
  and #toks[1].top_logprobs == 2)

-- 2. Identity: transport fields are not part of it, output-changing ones are.
local _, n0 = last()
local same = assert(ask("pass through", {logprobs = true, top_logprobs = 2, reasoning_effort = "low",
  response_format = {type = "json_object"}, presence_penalty = 0.5, stop = {"\n\n"},
  user = "someone else", extra = {top_k = 20}}))
check("another user id is the same sample", same.cached == 1 and select(2, last()) == n0)
check("a stored sample keeps its logprobs", same.choices[1].logprobs
  and #same.choices[1].logprobs == #toks and same.choices[1].logprobs[2].token == toks[2].token)
local other = assert(ask("pass through", {logprobs = true, top_logprobs = 2, reasoning_effort = "low",
  response_format = {type = "json_object"}, presence_penalty = 0.5, stop = {"\n\n"},
  extra = {top_k = 40}}))
check("another top_k is another sample", other.cached == 0)
local a = assert(ask("plain", {temperature = 0.5}))
local b = assert(ask("plain", {temperature = 0.5, logprobs = true}))
check("logprobs is part of the identity", b.cached == 0 and a.key ~= b.key)

-- 3. A call without a place keeps the key it always had.
local canon = server.url .. "\n" .. '{"model":"m","messages":[{"role":"user","content":"plain"}],'
  .. '"temperature":0.5}'
check("no place: the key is the SHA-256 of base URL and request, as before",
  a.key == mux.store.hash(canon), a.key)

-- 4. Places: three agents asking the same thing are three samples, each
-- with its own seed; asking again from a place reuses its sample.
local _, before = last()
local texts, seeds, keys = {}, {}, {}
for agent = 1, 3 do
  local resp = assert(ask("debate me", {seed = 5, place = "agent=" .. agent .. ";round=1"}))
  texts[agent], seeds[agent], keys[agent] = resp.choices[1].text, resp.choices[1].seed, resp.key
end
local log = server.requests()
check("three places, three requests", #log == before + 3, (#log - before) .. " requests")
check("three keys", keys[1] ~= keys[2] and keys[2] ~= keys[3] and keys[1] ~= keys[3])
check("each place its own seed, as sent and recorded",
  seeds[1] ~= seeds[2] and seeds[2] ~= seeds[3] and log[#log].seed == seeds[3] and log[#log - 2].seed == seeds[1])
check("the fake server's seeded texts differ by place", texts[1] ~= texts[2] or texts[2] ~= texts[3])
local again = assert(ask("debate me", {seed = 5, place = "agent=2;round=1"}))
check("a place asked again is its stored sample", again.cached == 1 and again.choices[1].text == texts[2])
local plain3 = assert(ask("debate me", {seed = 5, n = 3}))
log = server.requests()
check("without a place: one request, seeds 5, 6, 7", log[#log].n == 3 and log[#log].seed == 5
  and plain3.choices[3].seed == 7 and plain3.key ~= keys[1])

-- 5. reasoning_content, system_fingerprint and usage details; also stored.
local rs = assert(ask("reasoned", {n = 2}))
check("reasoning_content, system_fingerprint and usage details come back",
  rs.choices[1].reasoning_content == "two and two" and rs.choices[2].reasoning_content == nil
  and rs.system_fingerprint == "fp_9" and rs.usage.completion_tokens_details.reasoning_tokens == 4)
check("per-sample tokens add up to the reply's", rs.choices[1].completion_tokens
  + rs.choices[2].completion_tokens == 6 and rs.choices[1].prompt_tokens + rs.choices[2].prompt_tokens == 10)
assert(mux.commit())
mux.set_offline(true)
local replay = ask("reasoned", {n = 2})
mux.set_offline(false)
check("offline, the extras replay from the store", replay and replay.cached == 2
  and replay.choices[1].reasoning_content == "two and two" and replay.system_fingerprint == "fp_9"
  and replay.usage.completion_tokens_details.reasoning_tokens == 4)

-- 6. Bad data.
local bad, err, info = ask("numeric content")
check("a content that is a number is a protocol error", bad == nil and info.kind == "protocol"
  and err:find("content of type a number", 1, true), tostring(err))
local fixed = assert(ask("numeric content"))
check("... and no sample was stored for it", fixed.cached == 0 and type(fixed.choices[1].text) == "string")
local raw = assert(ask("broken bytes"))
local stored = assert(ask("broken bytes"))
check("invalid UTF-8 is stored byte for byte", stored.cached == 1 and stored.choices[1].text == raw.choices[1].text
  and raw.choices[1].text:find("\xff\xfe x\xe2\x82", 1, true) ~= nil)

server.stop()
os.remove(store_path)
print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
