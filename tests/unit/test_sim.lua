-- The simulator: deterministic per (model, question, sample, seed), faithful
-- to its profile's accuracy and consistency, and shaped like mux.chat.
local sim = require "slmmux.sim"
local gsm8k = require "slmmux.tasks.gsm8k"
local gpqa = require "slmmux.tasks.gpqa"

local FAST = {accuracy = 0.7, consistency = 0.5, latency_ms = 0, tokens = 100}
local PROFILES = {
  fast = FAST,
  steady = {accuracy = 0.3, consistency = 0.95, latency_ms = 0, tokens = 100},
  fickle = {accuracy = 0.3, consistency = 0.0, latency_ms = 0, tokens = 100},
  flaky = {accuracy = 0.7, consistency = 0.5, latency_ms = 0, tokens = 100, error_rate = 0.5},
  per_task = {accuracy = {gsm8k = 0.9, gpqa = 0.2}, consistency = 0.5, latency_ms = 0, tokens = 100},
}

local function problems(n)
  local ps = {}
  for i = 1, n do ps[i] = {id = "q" .. i, reference = tostring(100 + i), text = "?"} end
  return ps
end

local function ask(s, model, p, n, max_tokens)
  return s:chat({model = model, n = n, max_tokens = max_tokens or 1000,
    messages = {{role = "user", content = "What is it?"}}}, p)
end

local function texts(resp)
  local t = {}
  for i, c in ipairs(resp.choices) do t[i] = c.text or "<nil>" end
  return table.concat(t, "\0")
end

-- Shape of mux.chat's resp, and an answer the task's extractor reads back.
local s = sim.new(gsm8k, {seed = 1, profiles = PROFILES})
local p1 = problems(1)[1]
local r = assert(ask(s, "fast", p1, 3))
assert(#r.choices == 3 and r.model == "fast" and r.attempts == 1)
assert(r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0 and r.latency_ms >= 0)
for _, c in ipairs(r.choices) do
  assert(c.finish_reason == "stop" or c.finish_reason == "length")
  if c.finish_reason == "stop" then assert(gsm8k.extract(c.text, p1), c.text) end
end

-- Samples already served cost no tokens (as with the host's store).
local again = assert(ask(s, "fast", p1, 3))
assert(again.usage.completion_tokens == 0 and texts(again) == texts(r), "served samples are free")
local more = assert(ask(s, "fast", p1, 5))
assert(more.usage.completion_tokens > 0, "samples 4 and 5 are new")

-- Determinism: the same (model, question, sample, seed) gives the same text,
-- whatever the request size or order; another seed gives other samples.
local a = sim.new(gsm8k, {seed = 7, profiles = PROFILES})
local b = sim.new(gsm8k, {seed = 7, profiles = PROFILES})
local c = sim.new(gsm8k, {seed = 8, profiles = PROFILES})
local differs = false
for i, p in ipairs(problems(30)) do
  local ra = assert(ask(a, "fast", p, 3))
  local rb1 = assert(ask(b, "fast", p, 1))
  local rb = assert(ask(b, "fast", p, 3))
  assert(texts(ra) == texts(rb), "same seed, same samples at " .. i)
  assert(ra.choices[1].text == rb1.choices[1].text, "sample 0 does not depend on n")
  differs = differs or texts(ra) ~= texts(assert(ask(c, "fast", p, 3)))
end
assert(differs, "another seed changes the samples")
assert(sim.hash("a", 1) == sim.hash("a", 1) and sim.hash("a", 1) ~= sim.hash("a1"))
local u = sim.uniform("x")
assert(u >= 0 and u < 1)

-- Accuracy of a profile over many questions (sample 0 = pass@1).
local function rates(model, task, ps, k)
  local s2 = sim.new(task, {seed = 3, profiles = PROFILES})
  local right, pairs_same, pairs_wrong, n = 0, 0, 0, 0
  for _, p in ipairs(ps) do
    local resp = assert(ask(s2, model, p, k))
    local answers = {}
    for i, ch in ipairs(resp.choices) do answers[i] = task.extract(ch.text, p) end
    if task.score(answers[1], p) then right = right + 1 end
    n = n + 1
    -- how often two wrong samples of one question give the same answer
    if answers[1] and answers[2] and not task.score(answers[1], p) and not task.score(answers[2], p) then
      pairs_wrong = pairs_wrong + 1
      if answers[1] == answers[2] then pairs_same = pairs_same + 1 end
    end
  end
  return right / n, pairs_same / math.max(pairs_wrong, 1)
end

local many = problems(3000)
local acc = rates("fast", gsm8k, many, 1)
assert(math.abs(acc - 0.7) < 0.04, "accuracy 0.7 simulated as " .. acc)
local acc_task = rates("per_task", gsm8k, many, 1)
assert(math.abs(acc_task - 0.9) < 0.03, "per-task accuracy 0.9 simulated as " .. acc_task)

-- Consistency: a consistent model repeats its wrong answer, a fickle one scatters.
local _, same_steady = rates("steady", gsm8k, problems(1500), 2)
local _, same_fickle = rates("fickle", gsm8k, problems(1500), 2)
assert(same_steady > 0.8 and same_fickle < 0.2,
  string.format("repeat rate steady %.2f, fickle %.2f", same_steady, same_fickle))

-- Task-aware wrong answers: GPQA gets another option letter.
local q = {id = "g1", reference = "B", letters = "ABCD", options = {"w", "x", "y", "z"}, text = "?"}
local sq = sim.new(gpqa, {seed = 0, profiles = {bad = {accuracy = 0, consistency = 0, latency_ms = 0, tokens = 50}}})
local rq = assert(ask(sq, "bad", q, 8))
for _, ch in ipairs(rq.choices) do
  local l = gpqa.extract(ch.text, q)
  assert(l == nil or (l ~= "B" and q.letters:find(l, 1, true)), "wrong letter " .. tostring(l))
end

-- Failures: an error value with the mux.chat errinfo shape, never an answer.
local sf = sim.new(gsm8k, {seed = 0, profiles = PROFILES})
local failed = 0
for _, p in ipairs(problems(200)) do
  local resp, err, info = ask(sf, "flaky", p, 3)
  if not resp then
    failed = failed + 1
    assert(type(err) == "string" and info.kind == "http" and info.status == 503 and info.attempts >= 1)
  end
end
assert(failed > 60 and failed < 140, "error_rate 0.5 gave " .. failed .. "/200")

-- max_tokens: a sample longer than the limit is cut off without an answer.
local st = sim.new(gsm8k, {seed = 0, profiles = PROFILES})
local cut = assert(ask(st, "fast", p1, 3, 10))
for _, ch in ipairs(cut.choices) do
  assert(ch.finish_reason == "length" and gsm8k.extract(ch.text, p1) == nil, "truncated sample")
end

-- Profiles: real model ids map to the paper's models; unknown names get a
-- stable default; a recipe's own profiles win.
local _, name = sim.profile("Qwen/Qwen2.5-7B-Instruct-Turbo")
assert(name == "sim/qwen2.5-7b", name)
_, name = sim.profile("mistralai/Mistral-Small-24B-Instruct-2501")
assert(name == "sim/mistral-small-24b", name)
local d1, n1 = sim.profile("acme/unknown-13b")
local d2 = sim.profile("acme/unknown-13b")
assert(n1 == "default" and d1.accuracy == d2.accuracy and d1.accuracy > 0 and d1.accuracy < 1)
assert(sim.profile("fast", PROFILES) == FAST)
assert(not pcall(sim.new, {name = "x"}), "a task without simulator hooks is refused")

-- Latency is simulated with mux.sleep.
local mux = require "slmmux"
local slow = sim.new(gsm8k, {seed = 0, profiles = {slow = {accuracy = 0.5, consistency = 0.5,
  latency_ms = 200, tokens = 10}}})
local t0 = mux.now()
assert(ask(slow, "slow", p1, 1))
local waited = mux.now() - t0
assert(waited >= 0.09 and waited < 1, "latency " .. waited)

print("test_sim: ok")
