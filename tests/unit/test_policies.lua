-- Policies on fixed samples: the backend is a function returning canned
-- texts, so each case states exactly what Algorithm 1 must pick.
local mux = require "slmmux"
local context = require "slmmux.run.context"
local policies = require "slmmux.policies"
local single = require "slmmux.policies.single"
local math_task = require "slmmux.tasks.math"
local gpqa_task = require "slmmux.tasks.gpqa"

local NULL = {}   -- a choice whose content is null

local function boxed(list)
  local out = {}
  for i, a in ipairs(list) do
    out[i] = a == NULL and NULL or ("Reasoning... so the answer is \\boxed{" .. a .. "}.")
  end
  return out
end

-- Runs `policy` with canned[model] = texts; returns decision, err, requests.
local function run(policy, canned, o)
  o = o or {}
  local models = o.models or {"A", "B"}
  local requests = {}
  local function chat(req)
    requests[#requests + 1] = {model = req.model, n = req.n}
    local texts = canned[req.model]
    if texts.fail then return nil, texts.fail, {kind = "http", status = 500, attempts = 3} end
    local choices = {}
    for i = 1, req.n do
      local t = texts[i]
      choices[i] = {text = t ~= NULL and t or nil, finish_reason = "stop"}
    end
    return {choices = choices, usage = {prompt_tokens = 10, completion_tokens = 20 * req.n}}
  end
  local task = o.task or math_task
  local problem = o.problem or {id = "p", text = "?", reference = "1"}
  local ctx = context.new(problem, {task = task, models = models, accuracy = o.accuracy,
    opts = {samples = o.k or 3, early_exit = o.early_exit, temperature = 0.3, max_tokens = 64},
    chat = chat})
  local decision, err = assert(policies.get(policy)).solve(problem, ctx)
  return decision, err, requests
end

local function pick(canned, o, answer, model)
  local d, err = run("slm_mux", canned, o)
  assert(d, err)
  assert(d.answer == answer, string.format("answer %s, expected %s", tostring(d.answer), answer))
  assert(d.model == model, string.format("model %s, expected %s", tostring(d.model), model))
  return d
end

-- 1. A unanimous model beats a 2/3 one.
pick({A = boxed{1, 1, 1}, B = boxed{2, 2, 3}}, nil, "1", "A")
-- 2. Confidence, not order: B (2/3) beats A (1/3).
pick({A = boxed{1, 2, 3}, B = boxed{4, 4, 5}}, nil, "4", "B")
-- 3. Tie (2/3 each), no validation accuracy: the earlier model.
pick({A = boxed{1, 1, 2}, B = boxed{3, 3, 4}}, nil, "1", "A")
-- 4. The same tie, B more accurate on validation: B.
pick({A = boxed{1, 1, 2}, B = boxed{3, 3, 4}}, {accuracy = {A = 0.5, B = 0.7}}, "3", "B")
-- 5. The same tie, A more accurate: A.
pick({A = boxed{1, 1, 2}, B = boxed{3, 3, 4}}, {accuracy = {A = 0.8, B = 0.7}}, "1", "A")
-- 6. Three models, the unanimous one wins although it is listed last.
pick({A = boxed{1, 2, 3}, B = boxed{4, 4, 5}, C = boxed{6, 6, 6}},
  {models = {"A", "B", "C"}}, "6", "C")
-- 7. Three models, B and C tie at 1; C's higher validation accuracy decides.
pick({A = boxed{1, 1, 2}, B = boxed{4, 4, 4}, C = boxed{6, 6, 6}},
  {models = {"A", "B", "C"}, accuracy = {A = 0.9, B = 0.4, C = 0.6}}, "6", "C")
-- 8. A model with no extractable answer (null content, no \boxed) never wins.
pick({A = {NULL, "I am not sure.", NULL}, B = boxed{2, 3, 4}}, nil, "2", "B")
-- 9. Missing answers lower confidence: A = 1/3 ("7" once), B = 1/3 -> tie -> A.
pick({A = {NULL, "no idea", boxed{7}[1]}, B = boxed{2, 3, 4}}, nil, "7", "A")
-- 10. Within a model, equivalent forms count together (MATH equivalence).
pick({A = boxed{"\\dfrac{1}{2}", "\\frac{1}{2}", "\\frac{1}{2}"}, B = boxed{3, 3, 4}},
  {problem = {id = "p", text = "?", reference = "\\frac{1}{2}"}}, "\\frac{1}{2}", "A")
-- 11. All distinct in every model: confidence 1/3 each, the first model's first answer.
local d = pick({A = boxed{5, 6, 7}, B = boxed{8, 9, 10}}, nil, "5", "A")
assert(math.abs(d.confidence - 1 / 3) < 1e-9, "confidence of a 1/3 model")

-- 12. First vs last \boxed: the task option decides which one is the answer.
local two = {}
for i = 1, 3 do two[i] = "First \\boxed{1}, but on reflection \\boxed{2}." end
local canned = {A = two, B = boxed{3, 3, 4}}
pick(canned, {task = math_task.new({boxed = "last"})}, "2", "A")
pick(canned, {task = math_task.new({boxed = "first"})}, "1", "A")

-- 13. GPQA letters (exact equivalence), with the problem's own option letters.
local q = {id = "g", text = "?", reference = "C", letters = "ABCD", options = {"w", "x", "y", "z"},
  choices = {"A w", "B x", "C y", "D z"}}
local function letters(list)
  local out = {}
  for i, l in ipairs(list) do out[i] = "Thinking. ##Answer: " .. l .. "##" end
  return out
end
pick({A = letters{"A", "B", "C"}, B = letters{"C", "C", "D"}}, {task = gpqa_task, problem = q}, "C", "B")

-- 14. Early exit: the first samples agree, so only one sample per model is asked.
local dec, err, reqs = run("slm_mux", {A = boxed{9, 1, 1}, B = boxed{9, 2, 2}}, {early_exit = true})
assert(dec and dec.answer == "9", err)
assert(#reqs == 2 and reqs[1].n == 1 and reqs[2].n == 1, "early exit asked for more samples")
assert(dec.reason:find("early exit"), dec.reason)
-- ... and without the option the same samples go through Algorithm 1 (A: 1 twice, B: 2 twice; tie -> A).
dec = run("slm_mux", {A = boxed{9, 1, 1}, B = boxed{9, 2, 2}})
assert(dec.answer == "1" and dec.model == "A", "without early exit")

-- 15. Early exit when the first samples disagree: all k samples are then fetched.
dec, err, reqs = run("slm_mux", {A = boxed{1, 1, 1}, B = boxed{2, 3, 4}}, {early_exit = true})
assert(dec and dec.answer == "1" and dec.model == "A", err)
assert(#reqs == 4, "expected 2 single-sample requests and 2 k-sample requests")
assert(reqs[3].n == 3 and reqs[4].n == 3, "the second round asks for all k samples")
-- A missing first answer is no agreement.
dec, err, reqs = run("slm_mux", {A = {NULL, boxed{5}[1], boxed{5}[1]}, B = {NULL, "x", "y"}},
  {early_exit = true})
assert(#reqs == 4 and dec.answer == "5", "null first samples must not count as agreement")

-- 16. A failed request makes the problem an error, never an answer.
dec, err = run("slm_mux", {A = boxed{1, 1, 1}, B = {fail = "HTTP 500: upstream error"}})
assert(dec == nil and err:find("B") and err:find("HTTP 500"), tostring(err))

-- 17. single: the model with the best validation accuracy, its majority answer.
dec = run("single", {A = boxed{1, 1, 1}, B = boxed{2, 2, 3}}, {accuracy = {A = 0.3, B = 0.6}})
assert(dec.model == "B" and dec.answer == "2", "single picks the best model")
assert(math.abs(dec.confidence - 2 / 3) < 1e-9)
local _, _, r = run("single", {A = boxed{1, 1, 1}, B = boxed{2, 2, 3}})
assert(#r == 1 and r[1].model == "A", "single samples one model only")

-- 18. majority (Agent Forest): pooled votes; B's 2 appears 3 times in 6 samples.
dec = run("majority", {A = boxed{1, 2, 3}, B = boxed{2, 2, 4}})
assert(dec.answer == "2" and dec.model == "A", "majority: answer 2, first seen from A")
-- ... where SLM-MUX would follow the more confident model:
pick({A = boxed{1, 2, 3}, B = boxed{2, 2, 4}}, nil, "2", "B")
dec = run("majority", {A = boxed{1, 1, 3}, B = boxed{2, 2, 4}})
assert(dec.answer == "1", "majority tie goes to the answer seen first")

-- 19. weighted: each sample weighs its model's confidence. A is sure of 5
-- (3 x 1 = 3); four 6s at 2/3 weigh 2.67, though a plain majority takes 6.
local sure = {A = boxed{5, 5, 5}, B = boxed{6, 6, 1}, C = boxed{6, 6, 2}}
dec = run("weighted", sure, {models = {"A", "B", "C"}})
assert(dec.answer == "5" and dec.model == "A", "weighted follows the sure model")
assert(math.abs(dec.confidence - 3 / (3 + 2 * 2 / 3 * 3)) < 1e-9, "share of the weight")
dec = run("majority", sure, {models = {"A", "B", "C"}})
assert(dec.answer == "6" and dec.model == "B", "majority counts heads")
dec = run("weighted", {A = boxed{1, 1, 1}, B = boxed{1, 1, 1}})
assert(dec.answer == "1" and dec.confidence == 1, "unanimous: all the weight")
dec = run("weighted", {A = {NULL, NULL, NULL}, B = {"x", "y", "z"}})
assert(dec.answer == nil and dec.confidence == 0, "nothing extracted")

-- 20. The registry: names, labels, descriptions; a recipe's own policy.
local names = table.concat(policies.names(), " ")
assert(names == "debate majority mav moa mux_confidence mux_logprob mux_verbalized single slm_mux slm_mux_adaptive weighted", names)
for _, n in ipairs(policies.names()) do
  local p = policies.get(n)
  assert(type(p.solve) == "function" and type(p.description) == "string", n)
end
assert(policies.label("slm_mux", {}) == "SLM-MUX")
assert(policies.label("single", {models = {"A", "B"}, samples = 3}, {B = 0.9}) == "B (SC@3)")
assert(policies.label("single", {models = {"A", "B"}, samples = 1}) == "A")
local first = policies.register("first_answer", {description = "the first sample of the first model",
  solve = function(_, ctx)
    local per_model, e = ctx.sample_all(1)
    if not per_model then return nil, e end
    return {answer = per_model[1].answers[1], model = per_model[1].model, confidence = 1}
  end})
assert(policies.get("first_answer") == first and policies.label("first_answer", {}) == "first_answer")
dec = run("first_answer", {A = boxed{7, 1, 1}, B = boxed{2, 2, 2}})
assert(dec.answer == "7" and dec.model == "A", "a registered policy runs")
local none, msg = policies.get("nope")
assert(none == nil and msg:find("unknown policy 'nope'", 1, true)
  and msg:find("first_answer, majority, mav, moa, mux_confidence", 1, true), msg)
local function refused(pattern, ...)
  local ok, e = pcall(policies.register, ...)
  assert(not ok and tostring(e):find(pattern, 1, true), tostring(e))
end
refused("name must be a word", "two words", first)
refused("needs solve", "x", {description = "d"})
refused("needs a one-line description", "x", {solve = print})
refused("label of 'x' must be a string or a function", "x", {solve = print, description = "d", label = 1})

-- 21. slmmux help lists every registered policy and every built-in task, one line each.
local text = require("slmmux.help").text()
for _, n in ipairs(policies.names()) do
  assert(text:find("\n  " .. n .. " +" .. policies.get(n).description:gsub("%p", "%%%0") .. "\n"),
    "help lists " .. n)
end
for _, t in ipairs(require("slmmux.tasks").list()) do
  assert(t.description and text:find("  " .. t.name .. " +" .. t.description:gsub("%p", "%%%0")),
    "help lists task " .. t.name)
end
assert(#require("slmmux.tasks").list() == 4, "four built-in tasks")

-- best_model
assert(single.best_model({"A", "B"}, nil) == "A")
assert(single.best_model({"A", "B"}, {B = 0.1}) == "B")

assert(mux.version)
print("test_policies: ok")
