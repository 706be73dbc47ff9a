-- ctx.chat, the one door, on the simulator: every call a policy makes is a
-- turn of the results line's transcript and counted per model in
-- summary.json; three agents on one model are three samples; the setting
-- partial decides whether a model that failed for good fails the problem;
-- the registered discussion policies run through baselines' -s policy=.
local cjson = require "cjson"
local mux = require "slmmux"
local runner = require "slmmux.run"

local MATH = (mux.home or ".") .. "/data/math_500.json"
local PROFILES = {
  good = {accuracy = 0.7, consistency = 0.4, latency_ms = 2, tokens = 200},
  fair = {accuracy = 0.5, consistency = 0.4, conformity = 0.8, latency_ms = 2, tokens = 150},
  flaky = {accuracy = 0.5, consistency = 0.4, latency_ms = 2, tokens = 150, error_rate = 0.4},
}

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local root = os.tmpname()
os.remove(root)
local function run(name, fields, cli)
  local r = {task = "math", data = MATH, models = {"good", "fair"}, backend = "sim",
    profiles = PROFILES, quiet = true, samples = 1, limit = 12, validation = "none",
    out = root .. "/" .. name}
  for k, v in pairs(fields or {}) do r[k] = v end
  local summary = runner.run(r, cli or {overrides = {}})
  local lines = {}
  for l in io.lines(r.out .. "/results.jsonl") do lines[#lines + 1] = cjson.decode(l) end
  return summary, lines
end

-- 1. A recipe's own solve with ctx.chat: agents, rounds, a judge beyond the run's models.
local function solve(problem, ctx)
  local first, err = ctx.chat_all{{model = "good", agent = 1, round = 1}, {model = "fair", agent = 2, round = 1}}
  if not first then return nil, err end
  local m = ctx.prompt()
  m[#m + 1] = {role = "assistant", content = first[1].choices[1].text}
  m[#m + 1] = {role = "user", content = "Another agent said: " .. first[2].choices[1].text}
  local again, err2 = ctx.chat{model = "good", messages = m, agent = 1, round = 2, n = 2}
  if not again then return nil, err2 end
  local judge = ctx.chat{model = "judge", messages = {{role = "user", content = problem.text}}, role = "judge"}
  return {answer = again.choices[1].answer, model = "good", confidence = judge and 1 or 0}
end
local s, lines = run("own", {solve = solve, name = "own debate",
  profiles = {good = PROFILES.good, fair = PROFILES.fair, judge = PROFILES.good}})
local turns_ok, fields_ok, tokens = true, true, {}
for _, l in ipairs(lines) do
  local t = l.transcript
  turns_ok = turns_ok and #t == 4 and t[1].agent == 1 and t[2].agent == 2 and t[3].round == 2
    and t[3].request.n == 2 and t[3].request.messages == 4 and t[4].role == "judge" and t[4].model == "judge"
  for _, turn in ipairs(t) do
    fields_ok = fields_ok and turn.request.temperature == 0.3 and turn.request.max_tokens == 2048
      and type(turn.latency_ms) == "number" and turn.cached == 0 and turn.requests == 1 and turn.key == nil
    for _, ch in ipairs(turn.choices) do
      fields_ok = fields_ok and type(ch.text) == "string" and ch.finish_reason and ch.completion_tokens > 0
        and ch.cached == false and type(ch.correct) == "boolean"
    end
    tokens[turn.model] = (tokens[turn.model] or 0) + turn.usage.prompt_tokens + turn.usage.completion_tokens
  end
end
check("every call is a turn: agent, round, role, model, request, choices", turns_ok)
check("each turn records latency, cached, requests, tokens per choice", fields_ok)
local rows = {}
for _, row in ipairs(s.models) do rows[row.model] = row end
check("a model beyond the run's (the judge) is counted in summary.json",
  rows.judge and rows.judge.requests == 12 and rows.judge.tokens.total == tokens.judge)
check("summary.json's tokens per model are the transcript's",
  rows.good.tokens.total == tokens.good and rows.fair.tokens.total == tokens.fair
  and s.tokens.total == tokens.good + tokens.fair + tokens.judge)
check("summary.json's requests per model count every call", rows.good.requests == 24 and rows.fair.requests == 12
  and s.requests.calls == 48)
check("round 1 at the task's prompt gives the models' pass@1 (no 'oracle 0.0')",
  rows.good.pass1.n == 12 and rows.fair.pass1.n == 12 and s.oracle.n == 12)

-- 2. Three agents on one model are three samples: each its own place.
local _, dl = run("same_model", {policy = "debate", models = {"fair"}, agents = 3, rounds = 2, limit = 30})
local places_ok, differ = true, 0
for _, l in ipairs(dl) do
  local seen, answers = {}, {}
  for i = 1, 3 do
    local t = l.transcript[i]
    places_ok = places_ok and t.round == 1 and t.agent == i and not seen[t.place] and t.cached == 0
    seen[t.place] = true
    answers[i] = t.choices[1].text
  end
  if answers[1] ~= answers[2] or answers[2] ~= answers[3] then differ = differ + 1 end
end
check("three agents on one model: three places, three fresh samples", places_ok and #dl[1].transcript == 6)
check("... that differ, as three samples do", differ >= 10, differ .. " of 30")
check("the model's round-1 samples are its k = 3 for self-consistency", #dl[1].models[1].calls == 3)

-- 3. Partial failure: by default the problem is an error; partial = true lets the others vote.
local _, strict = run("strict", {models = {"good", "flaky"}, samples = 3, limit = 40}, {overrides = {}, max_errors = 1})
local _, lenient = run("lenient", {models = {"good", "flaky"}, samples = 3, limit = 40, partial = true})
local by_id = {}
for _, l in ipairs(lenient) do by_id[l.id] = l end
local errors, decided, recorded = 0, 0, true
for _, l in ipairs(strict) do
  if l.error then
    errors = errors + 1
    local other = by_id[l.id]
    if not other.error and other.selected_model == "good" then decided = decided + 1 end
    recorded = recorded and other.failed_calls and other.failed_calls[1].model == "flaky"
      and other.failed_calls[1].error:find("503", 1, true) ~= nil
  end
end
check("by default a model that failed makes the problem an error", errors > 5, errors)
check("with partial = true the other model decides those problems", decided == errors, decided .. "/" .. errors)
check("... and the line says which call failed", recorded)

-- 4. The discussion policies through -s policy= (recipes/baselines.lua's way).
for _, name in ipairs({"debate", "moa", "mav", "mux_verbalized", "mux_logprob"}) do
  local ok, sm, pl = pcall(run, "policy_" .. name, {limit = 4, samples = 2, aspects = {"general_direct"}},
    {overrides = {policy = name}})
  check("-s policy=" .. name .. " runs", ok and sm.counts.total == 4 and sm.counts.errors == 0
    and #pl[1].transcript > 1, tostring(ok and sm.label or sm))
end

-- 5. The papers' prompts and what is read from replies.
local vera = require "slmmux.policies.mav_prompts"
local prompt = vera.prompt("math", "units_steps", "What is 2+2?", "It is 4.")
check("a MAV verifier prompt: the paper's system line, question, solution, instructions",
  prompt:find("^You are a critical verifier tasked with evaluating mathematical problem%-solving%.")
  and prompt:find("\n\nQUESTION:\nWhat is 2%+2%?\n\nPROPOSED SOLUTION:\nIt is 4%.\n\nINSTRUCTIONS: \n")
  and prompt:find("reply 'FINAL VERIFICATION ANSWER:True'%.$"))
check("gpqa gets the multiple-choice verifier", vera.prompt("gpqa", "general_direct", "q", "s")
  :find("multiple%-choice question%-answering"))
check("an unknown aspect is an error naming the known ones",
  not pcall(vera.prompt, "math", "vibes", "q", "s") and select(2, pcall(vera.prompt, "math", "vibes", "q", "s"))
  :find("general_edge", 1, true))
check("approval: the last FINAL VERIFICATION ANSWER, bold and case ignored",
  vera.approval("... FINAL VERIFICATION ANSWER:False ... final verification answer: **True**") == true
  and vera.approval("FINAL VERIFICATION ANSWER: false.") == false
  and vera.approval("FINAL VERIFICATION ANSWER: True, since") == true
  and vera.approval("I think it is True") == false)
do   -- MoA's aggregator sees the proposers' responses in the paper's prompt
  local context = require "slmmux.run.context"
  local seen = {}
  local function chat(req)
    seen[#seen + 1] = req
    return {choices = {{text = req.model .. " says \\boxed{7}", finish_reason = "stop"}}}
  end
  local ctx = context.new({id = "p", text = "?", reference = "7"}, {task = require("slmmux.tasks.math"),
    models = {"a", "b"}, opts = {layers = 2, temperature = 0.7, max_tokens = 64}, chat = chat})
  local d = require("slmmux.policies.moa").solve(ctx.problem, ctx)
  local system = seen[3].messages[1].content
  local task_system = require("slmmux.tasks.math").prompt(ctx.problem)[1].content
  check("MoA: the task's system message, then the Aggregate-and-Synthesize prompt and the responses",
    #seen == 3 and seen[3].place == "agent=1;round=2;role=aggregator" and seen[3].model == "a"
    and system:sub(1, #task_system + 2) == task_system .. "\n\n"
    and system:find("\n\nYou have been provided with a set of responses "
      .. "from various open%-source models to the latest user query%.")
    and system:find("Responses from models:\n1%. a says \\boxed{7}\n2%. b says \\boxed{7}$")
    and d.answer == "7" and d.confidence == 1, system)
end
local signals = require "slmmux.policies.signals"
check("a stated confidence", signals.stated("x\nConfidence: 85%\n\\boxed{4}") == 0.85
  and signals.stated("no confidence") == 0 and signals.stated("Confidence: 140%") == 1)
local ch = {text = "So \\boxed{42}.", answer = "42", logprobs = {{token = "So \\", logprob = -1},
  {token = "boxed{", logprob = -1}, {token = "42", logprob = -0.2}, {token = "}.", logprob = -0.4}}}
check("the answer's mean log-prob is over the tokens that state it",
  math.abs(signals.answer_logprob(ch, "m") - (-0.2)) < 1e-9)
local okl, errl = pcall(signals.answer_logprob, {text = "4"}, "m7")
check("no logprobs is a configuration error naming the model", not okl
  and require("slmmux.errors").kind(errl) == "config" and tostring(errl):find("m7", 1, true))

os.execute("rm -rf " .. root)
print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
