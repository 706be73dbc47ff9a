-- The simulator: deterministic per (model, question, sample, seed), faithful
-- to its profile's accuracy and consistency, and shaped like mux.chat.
local sim = require "slmmux.sim"
local sim_texts = require "slmmux.sim.texts"
local data = require "slmmux.data"
local math_task = require "slmmux.tasks.math"
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
-- the hash (C, core.hash64) is FNV-1a of each argument's tostring() and a
-- 0xff, then the splitmix64 finalizer: the Lua reference below, bit for
-- bit, so simulated runs keep their samples across the move to C
local function reference_hash(...)
  local h = 0xcbf29ce484222325
  for i = 1, select("#", ...) do
    local s = tostring((select(i, ...)))
    for j = 1, #s do h = (h ~ s:byte(j)) * 0x100000001b3 end
    h = (h ~ 0xff) * 0x100000001b3
  end
  h = (h ~ (h >> 30)) * 0xbf58476d1ce4e5b9
  h = (h ~ (h >> 27)) * 0x94d049bb133111eb
  return h ~ (h >> 31)
end
assert(sim.hash() == reference_hash() and sim.hash(nil, false) == reference_hash(nil, false))
math.randomseed(11)
for _ = 1, 3000 do
  local args, n = {}, math.random(0, 5)
  for j = 1, n do
    local r = math.random(4)
    args[j] = r == 1 and math.random(-1 << 62, 1 << 62) or r == 2 and math.random() * 1e6
      or r == 3 and string.rep(string.char(math.random(0, 255)), math.random(0, 40)) or nil
  end
  assert(sim.hash(table.unpack(args, 1, n)) == reference_hash(table.unpack(args, 1, n)))
end
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
assert(not pcall(sim.new, {name = "x"}), "a task without extract and score is refused")

-- Latency is simulated with mux.sleep.
local mux = require "slmmux"
local slow = sim.new(gsm8k, {seed = 0, profiles = {slow = {accuracy = 0.5, consistency = 0.5,
  latency_ms = 200, tokens = 10}}})
local t0 = mux.now()
assert(ask(slow, "slow", p1, 1))
local waited = mux.now() - t0
assert(waited >= 0.09 and waited < 1, "latency " .. waited)

-- The built-in tasks' answers: a stated reference extracts back and
-- scores, each in the task's own format; wrong answers are wrong.
local home = mux.home or "."
local formats = {math = "\\boxed{", gsm8k = "\n#### ", gpqa = "##Answer: "}
for _, case in ipairs({{math_task, "data/math_500.json"}, {gsm8k, "data/gsm8k_test.jsonl"},
    {gpqa, "data/gpqa_diamond.json.gz"}}) do
  local task, set = case[1], case[1].load(home .. "/" .. case[2])
  local tt = sim_texts.for_task(task)
  for i = 1, 40 do
    local p = set[i]
    local text, finish = tt.text(p.reference, p, i)
    assert(finish == "stop" and text:find("Therefore the final answer is " .. formats[task.name], 1, true),
      task.name .. " format: " .. text)
    assert(task.score(task.extract(text, p), p), task.name .. " round trip " .. p.id)
    local miss = tt.wrong(p, i)
    assert(not task.score(miss, p) and tt.rejects(miss, p), task.name .. " near miss " .. p.id)
  end
end

-- A task the simulator has never seen: the README's trivia example, without
-- answer_text or near_miss. Its answers are stated as "Answer: X", read back
-- by its own extract; wrong answers are ones its own score rejects.
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. data.quote(dir)))
local function write(name, lines)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  return dir .. "/" .. name
end
local CAPITALS = {{"France", "Paris"}, {"Japan", "Tokyo"}, {"Peru", "Lima"}, {"Kenya", "Nairobi"},
  {"Chile", "Santiago"}, {"Egypt", "Cairo"}, {"Nepal", "Kathmandu"}, {"Cuba", "Havana"},
  {"Iraq", "Baghdad"}, {"Laos", "Vientiane"}}
local records = {}
for i = 1, 200 do
  local c = CAPITALS[(i - 1) % #CAPITALS + 1]
  records[i] = string.format('{"q": "What is the capital of %s? (%d)", "a": "%s"}', c[1], i, c[2])
end
local trivia_path = write("trivia.jsonl", records)
local trivia = {
  name = "trivia", equiv = "exact",
  load = function(path)
    local ps = data.load(path, {fields = {q = "string", a = "string"}})
    for i, p in ipairs(ps) do p.id, p.text, p.reference = "trivia-" .. i, p.q, p.a end
    return ps
  end,
  prompt = function(p) return {{role = "user", content = p.text .. "\nEnd with 'Answer: X'."}} end,
  extract = function(text) return text and text:match("Answer:%s*(.-)%s*$") end,
  score = function(answer, p) return answer ~= nil and answer:lower() == p.reference:lower() end,
  reference = function(p) return p.reference end,
}
local tp = trivia.load(trivia_path)
local tt = sim_texts.for_task(trivia)
local said = tt.text("Paris", tp[1], 0)
assert(said:find("\nAnswer: Paris$") and trivia.extract(said) == "Paris", said)
for j = 1, 30 do
  local miss = tt.wrong(tp[1], j)
  assert(miss ~= "Paris" and not trivia.score(miss, tp[1]) and tt.rejects(miss, tp[1]),
    "wrong answer " .. tostring(miss))
  assert(miss:lower() ~= "paris", "a wrong answer is not a change of case")
end
local st2 = sim.new(trivia, {seed = 5, profiles = PROFILES})
local right, wrong_answers, answered = 0, {}, 0
for _, p in ipairs(tp) do
  local resp = assert(ask(st2, "fast", p, 2))
  local a = trivia.extract(resp.choices[1].text, p)
  if a then answered = answered + 1 end
  if trivia.score(a, p) then right = right + 1 elseif a then wrong_answers[#wrong_answers + 1] = a end
end
assert(math.abs(right / #tp - 0.7) < 0.1, "trivia accuracy 0.7 simulated as " .. right / #tp)
assert(answered >= #tp - 20 and #wrong_answers > 20, "wrong answers are stated, not dropped")
-- ... and a whole run of it on the simulator, as the README shows.
local summary = mux.run{task = trivia, data = trivia_path, models = {"fast", "steady"},
  profiles = PROFILES, backend = "sim", out = dir .. "/run", quiet = true, limit = 60}
assert(summary.counts.errors == 0 and summary.counts.unanswered < 5, "trivia run")
assert(summary.accuracy.value > 0.5 and summary.accuracy.value < 1, "trivia accuracy "
  .. summary.accuracy.value)

-- Other phrasings, the first one a task reads back: "#### X", "The answer is X".
local function task_reading(pattern, name)
  return {name = name or "custom", load = trivia.load, prompt = trivia.prompt,
    extract = function(text) return text and text:match(pattern) end, score = trivia.score}
end
local hashes = sim_texts.for_task(task_reading("####%s*(%S+)%s*$"))
assert(hashes.text("Lima", tp[3], 1):find("\n#### Lima$"), "#### phrasing")
local plain = sim_texts.for_task(task_reading("The answer is (%a+)$"))
assert(plain.text("Lima", tp[3], 1):find("\nThe answer is Lima$"), "'The answer is' phrasing")
-- A task named like a built-in one but reading another format is not given
-- the built-in one's \boxed{}.
local own_math = sim_texts.for_task(task_reading("Answer:%s*(.-)%s*$", "math"))
assert(own_math.text("Lima", tp[3], 1):find("\nAnswer: Lima$"), "own 'math' task")
-- A task that reads none of them: a clear error naming it, never silent samples.
local ok, err = pcall(ask, sim.new(task_reading("^never$", "mute"), {profiles = PROFILES}),
  "fast", tp[1], 1)
assert(not ok and err:find("task 'mute'", 1, true) and err:find("Answer: X", 1, true)
  and err:find("answer_text", 1, true), tostring(err))
-- A task's own answer_text and near_miss are used as given.
local hooked = task_reading("<<(.-)>>", "hooked")
hooked.answer_text = function(a) return "<<" .. a .. ">>" end
hooked.near_miss = function(_, j) return "wrong" .. j end
local ht = sim_texts.for_task(hooked)
assert(ht.text("Lima", tp[3], 0):find("Therefore the final answer is <<Lima>>$", 1), "own hooks")
assert(ht.wrong(tp[3], 4) == "wrong4")
os.execute("rm -rf -- " .. data.quote(dir))

print("test_sim: ok")
