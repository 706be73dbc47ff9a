-- slmmux.vote, the Lua Algorithm 1, majority and weighted votes: the cases
-- of the C votes (test_vote.c, test_vote.lua) with the same expected
-- decisions, then random cases on which the Lua and the C (mux.vote.mux,
-- majority, weighted) versions must decide alike, field by field.
local mux = require "slmmux"
local vote = require "slmmux.vote"

local C = mux.vote
local passed = 0

local function check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
  passed = passed + 1
end

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  check(not ok, "expected an error matching " .. pattern)
  check(tostring(err):find(pattern, 1, true), "error was: " .. tostring(err))
end

local function near(a, b) return math.abs(a - b) < 1e-12 end

local function caseless(a, b) return a:lower() == b:lower() end

-- Lua and C decisions of vote.mux are the same, per_model included.
local function same_mux(per_model, opts, what)
  local l, c = vote.mux(per_model, opts), C.mux(per_model, opts)
  local function same(x, y, field)
    check(x == y or (x ~= x and y ~= y), string.format("%s: %s is %s in Lua, %s in C", what, field,
      tostring(x), tostring(y)))
  end
  for _, f in ipairs({"answer", "model", "index", "confidence", "reason"}) do same(l[f], c[f], f) end
  check(#l.per_model == #c.per_model, what .. ": per_model length")
  for i, lp in ipairs(l.per_model) do
    for _, f in ipairs({"model", "answer", "count", "k", "confidence"}) do
      same(lp[f], c.per_model[i][f], "per_model[" .. i .. "]." .. f)
    end
  end
  return l
end

---------------------------------------------------------------------------
-- Algorithm 1: the cases of the C version

-- the worked example of the SLM-MUX project page: 2/3 vs 2/3 vs 1/3
local per_model = {
  {model = "qwen", answers = {"A", "A", "B"}},
  {model = "llama", answers = {"B", "C", "B"}},
  {model = "gemma", answers = {"A", "B", "C"}},
}
local r = same_mux(per_model, {accuracy = {qwen = 0.4, llama = 0.6, gemma = 0.9}}, "page example")
check(r.answer == "B" and r.model == "llama" and r.index == 2 and r.reason == "tie_accuracy")
check(near(r.confidence, 2 / 3))
check(r.per_model[1].model == "qwen" and r.per_model[1].answer == "A" and r.per_model[1].count == 2
  and r.per_model[1].k == 3 and near(r.per_model[1].confidence, 2 / 3))
-- accuracy by position
r = same_mux(per_model, {accuracy = {0.7, 0.6, 0.9}}, "by position")
check(r.model == "qwen" and r.reason == "tie_accuracy")
-- no accuracy: order decides
r = same_mux(per_model, nil, "no accuracy")
check(r.model == "qwen" and r.answer == "A" and r.reason == "tie_order")
-- a single model takes its top group
r = same_mux({{model = "a", answers = {"A", "B", "B"}}}, {accuracy = {0.5}}, "single")
check(r.model == "a" and r.index == 1 and r.answer == "B" and r.reason == "confidence")
check(r.per_model[1].count == 2 and r.per_model[1].k == 3)
-- the highest confidence wins, whatever the accuracy
r = same_mux({{model = "a", answers = {"1", "2", "3"}}, {model = "b", answers = {"5", "5", "5"}}},
  {accuracy = {0.9, 0.1}}, "clear winner")
check(r.model == "b" and r.answer == "5" and r.confidence == 1 and r.reason == "confidence")
-- equal accuracy: order
r = same_mux({{model = "a", answers = {"X", "X", "Y"}}, {model = "b", answers = {"Y", "Y", "X"}}},
  {accuracy = {0.5, 0.5}}, "accuracy tie")
check(r.model == "a" and r.answer == "X" and r.reason == "tie_order")
-- unknown accuracies (NaN, negative) tie by order; a known one beats unknown
r = same_mux({{model = "a", answers = {"X", "Y"}}, {model = "b", answers = {"Y", "X"}}},
  {accuracy = {0 / 0, -1}}, "unknown accuracies")
check(r.model == "a" and r.reason == "tie_order")
r = same_mux({{model = "a", answers = {"X", "X"}}, {model = "b", answers = {"Y", "Y"}}},
  {accuracy = {0 / 0, 0.05}}, "known beats unknown")
check(r.model == "b" and r.reason == "tie_accuracy")
r = same_mux({{model = "a", answers = {"X", "X"}}, {model = "b", answers = {"Y", "Y"}}},
  {accuracy = {b = 0.05}}, "known by name beats absent")
check(r.model == "b" and r.reason == "tie_accuracy")
-- three-way tie; the best accuracy shared by models 2 and 3: the earlier, by order
r = same_mux({{model = "a", answers = {"a", "b"}}, {model = "b", answers = {"c", "d"}},
  {model = "c", answers = {"e", "f"}}}, {accuracy = {0.3, 0.7, 0.7}}, "shared best")
check(r.model == "b" and r.index == 2 and r.reason == "tie_order")
-- ... and a better one after a shared pair wins on accuracy
r = same_mux({{model = "a", answers = {"a"}}, {model = "b", answers = {"c"}},
  {model = "c", answers = {"e"}}}, {accuracy = {0.5, 0.5, 0.7}}, "better after shared")
check(r.model == "c" and r.reason == "tie_accuracy")
-- a model with no answer never wins, whatever its accuracy
r = same_mux({{model = "a", answers = {false, false, false}}, {model = "b", answers = {"x", false, "y"}}},
  {accuracy = {0.99, 0.01}}, "all-false model")
check(r.model == "b" and r.answer == "x" and r.reason == "confidence" and near(r.confidence, 1 / 3))
check(r.per_model[1].count == 0 and r.per_model[1].answer == nil and r.per_model[1].confidence == 0
  and r.per_model[1].k == 3)
-- no answer anywhere
r = same_mux({{model = "a", answers = {false, false}}, {model = "b", answers = {false}}},
  {accuracy = {0.5, 0.7}}, "no answer")
check(r.answer == nil and r.model == nil and r.index == nil and r.reason == "no_answer"
  and r.confidence == 0)
check(same_mux({}, nil, "empty").reason == "no_answer")
-- failures count in k: "7" once of 2 is 1/2 < 2/3 (dropped from k it would be 1/1)
r = same_mux({{model = "a", answers = {"7", false}}, {model = "b", answers = {"8", "8", "9"}}},
  {accuracy = {a = 1.0, b = 0.0}}, "failures in k")
check(r.model == "b" and r.reason == "confidence")
-- n: samples asked for, holes included
r = same_mux({{model = "a", answers = {"7"}, n = 3}, {model = "b", answers = {"8", "9", "10"}}},
  nil, "n with holes")
check(r.model == "a" and r.reason == "tie_order" and r.per_model[1].k == 3)
-- confidence compared as fractions: 3/9 ties 1/3
r = same_mux({{model = "a", answers = {"a", "b", "c"}},
  {model = "b", answers = {"z", "z", "z", "y", "x", "w", "v", "u", "t"}}},
  {accuracy = {0.2, 0.8}}, "fractions")
check(r.model == "b" and r.reason == "tie_accuracy" and r.answer == "z")
-- a model with no samples at all (k = 0) is skipped
r = same_mux({{model = "a", answers = {}}, {model = "b", answers = {"q", "r", "s"}}}, nil, "k = 0")
check(r.model == "b" and r.reason == "confidence" and r.per_model[1].confidence == 0)
-- the equivalence decides the groups
r = same_mux({{model = "a", answers = {"y", "x", "X"}}, {model = "b", answers = {"p", "q", "p"}}},
  {equiv = caseless, accuracy = {0.1, 0.9}}, "caseless tie")
check(r.model == "b" and r.reason == "tie_accuracy")
r = same_mux({{model = "a", answers = {"y", "x", "X"}}, {model = "b", answers = {"p", "q", "p"}}},
  {equiv = caseless, accuracy = {0.1, 0.05}}, "caseless")
check(r.model == "a" and r.answer == "x" and r.reason == "tie_accuracy")
r = same_mux({{model = "a", answers = {"y", "x", "X"}}, {model = "b", answers = {"p", "q", "p"}}},
  {accuracy = {0.1, 0.05}}, "bytes")
check(r.model == "b" and r.reason == "confidence")
r = same_mux({{model = "a", answers = {"\\frac{1}{2}", "0.5", "\\dfrac12"}},
  {model = "b", answers = {"2", "2", "3"}}}, {equiv = "math"}, "math")
check(r.model == "a" and r.answer == "\\frac{1}{2}" and r.confidence == 1)

-- top and select are the two steps of mux
local t = vote.top({model = "m", answers = {"7", false, "7"}})
check(t.model == "m" and t.answer == "7" and t.count == 2 and t.k == 3 and near(t.confidence, 2 / 3))
t = vote.top({model = "m", answers = {"X", "x"}}, caseless)
check(t.count == 2 and t.answer == "X")
local d = vote.select({{model = "a", answer = "1", count = 2, k = 4},
  {model = "b", answer = "2", count = 1, k = 2}, {model = "c", count = 0, k = 4}}, {0.5, 0.6, 0.9})
check(d.model == "b" and d.index == 2 and d.reason == "tie_accuracy" and d.confidence == 0.5
  and d.per_model == nil)
check(vote.select({}).reason == "no_answer")

-- misuse names the function and the argument
raises("vote.mux: per_model[1] must be a table", vote.mux, {"A"})
raises("per_model[1].answers must be a table", vote.mux, {{model = "a"}})
raises("per_model[2].answers[1] must be a string", vote.mux,
  {{model = "a", answers = {"x"}}, {model = "b", answers = {1}}})
raises("per_model[1].model must be a string", vote.mux, {{model = 7, answers = {}}})
raises("per_model[1].n must be a non-negative integer", vote.mux, {{answers = {}, n = -1}})
raises("option 'accuracy' must be a table", vote.mux, per_model, {accuracy = 0.5})
raises("accuracy of model 1 must be a number", vote.mux, per_model, {accuracy = {"high"}})
raises("vote.mux: unknown option 'acc'", vote.mux, per_model, {acc = {}})
raises("option 'equiv'", vote.mux, per_model, {equiv = "fuzzy"})
raises("boom", vote.mux, per_model, {equiv = function() error("boom") end})
raises("vote.mux: per_model must be an array", vote.mux, "x")
raises("vote.select: tops must be an array", vote.select, nil)
raises("vote.top: per_model[1] must be a table", vote.top, "x")

-- ... and the error is raised at the caller's line, not inside slmmux.vote
local function at_caller(fn)
  local ok, err = pcall(fn)
  check(not ok and tostring(err):find("^[^:]*test_vote_lua%.lua:%d+: vote%."), "raised at: " .. tostring(err))
end
at_caller(function() local d = vote.mux({{answers = {1}}}); return d end)
at_caller(function() local d = vote.mux({{answers = {}, model = 3}}); return d end)
at_caller(function() local d = vote.mux({{answers = {"a"}}}, {accuracy = {"x"}}); return d end)
at_caller(function() local d = vote.mux({}, {acc = 1}); return d end)
at_caller(function() local d = vote.top("x"); return d end)
at_caller(function() local d = vote.select({{count = 1, k = 1}}, {"x"}); return d end)
at_caller(function() local d = vote.majority({1}); return d end)
at_caller(function() local d = vote.weighted({"a"}, {"x"}); return d end)
at_caller(function() local d = vote.weighted_models({{answers = {1}}}); return d end)

---------------------------------------------------------------------------
-- Majority and weighted votes: the cases of the C versions

local function same_majority(answers, opts)
  local a, n, first = vote.majority(answers, opts)
  local ca, cn = C.majority(answers, opts)
  check(a == ca and n == cn, "majority differs from C: " .. tostring(a) .. " vs " .. tostring(ca))
  return a, n, first
end

local a, n, first = same_majority({false, "7", "8", "8", "7", "9"})
check(a == "7" and n == 2 and first == 2, "majority: ties to first appearance")
a, n = same_majority({"7", "8", "8"})
check(a == "8" and n == 2)
a, n = same_majority({false, false})
check(a == nil and n == 0)
a, n = same_majority({})
check(a == nil and n == 0)
a, n = same_majority({"x", "X", "y"}, {equiv = caseless})
check(a == "x" and n == 2)
a, n = same_majority({nil, "x", nil, "x"}, {n = 4})
check(a == "x" and n == 2)
a, n = same_majority({"", false, ""})
check(a == "" and n == 2, "the empty string is an answer")
a, n = same_majority({"a\0b", "a\0c", "a\0c"})
check(a == "a\0c" and n == 2, "bytes past NUL")
raises("vote.majority: answers[2] must be a string", vote.majority, {"a", 7})
raises("vote.majority: unknown option 'equal'", vote.majority, {"a"}, {equal = "exact"})

local function same_weighted(answers, weights, opts)
  local la, lw = vote.weighted(answers, weights, opts)
  local ca, cw = C.weighted(answers, weights, opts)
  check(la == ca and lw == cw, "weighted differs from C: " .. tostring(la) .. " vs " .. tostring(ca))
  return la, lw
end

local w
a, w = same_weighted({"a", "b", "b", "c"}, {0.9, 0.4, 0.4, 0.1})
check(a == "a" and near(w, 0.9))
a, w = same_weighted({"a", "b", "b", "c"}, {0.5, 0.4, 0.4, 0.1})
check(a == "b" and near(w, 0.8))
-- 1/3 + 1/3 + 1/3 against 1.0: a tie within rounding, the first wins
a = same_weighted({"x", "y", "y", "y"}, {1.0, 1 / 3, 1 / 3, 1 / 3})
check(a == "x", "rounding tie")
a = same_weighted({"x", "y", "y", "y"}, {1 / 3, 1 / 3, 1 / 3, 1 / 3 + 1e-6})
check(a == "y", "a clear margin wins")
a, w = same_weighted({false}, {1})
check(a == nil and w == 0)
a = same_weighted({false, "b"}, {"ignored", 1})
check(a == "b", "no weight needed where there is no answer")
raises("weights[2] must be a number", vote.weighted, {"a", "b"}, {1, "x"})
raises("weights[1] must be finite", vote.weighted, {"a"}, {1 / 0})
raises("vote.weighted: weights must be a table", vote.weighted, {"a"}, nil)

local function same_weighted_models(pm, opts)
  local la, lw, lm = vote.weighted_models(pm, opts)
  local ca, cw, cm = C.weighted(pm, opts)
  check(la == ca and lw == cw and lm == cm, "weighted_models differs from C: " .. tostring(la)
    .. "/" .. tostring(lm) .. " vs " .. tostring(ca) .. "/" .. tostring(cm))
  return la, lw, lm
end

-- "5" from a sure model (3 x 1) beats four "6"s at 2/3 (2.67), which a
-- plain majority would pick
local three = {{model = "sure", answers = {"5", "5", "5"}},
  {model = "m1", answers = {"6", "6", "1"}}, {model = "m2", answers = {"6", "6", "2"}}}
check(vote.majority({"5", "5", "5", "6", "6", "1", "6", "6", "2"}) == "6")
local m
a, w, m = same_weighted_models(three)
check(a == "5" and m == "sure" and near(w, 3))
-- model 2 asked for 2 samples: its "6","6" is 2/2, so "6" has 4/3 + 2 = 3.33
three[3].n = 2
a, w, m = same_weighted_models(three)
check(a == "6" and m == "m1" and near(w, 2 / 3 * 2 + 2))
a, w, m = same_weighted_models({{model = "m1", answers = {"y", "X", "x"}},
  {model = "m2", answers = {"p", "q"}}}, {equiv = caseless})
check(a == "X" and m == "m1" and near(w, 4 / 3))
a, w = same_weighted_models({{model = "a", answers = {false}}})
check(a == nil and w == 0)

---------------------------------------------------------------------------
-- Random cases: Lua and C decide alike

math.randomseed(20251005)
local ALPHABETS = {
  {"A", "B", "C", "a"},
  {"1", "2", "3"},
  {"\\frac{1}{2}", "0.5", "\\dfrac{1}{2}", "2", "x^2", "3"},
}
local ACCURACIES = {0.3, 0.5, 0.5, 0.7, -1, 0 / 0}

local function random_answers(alphabet, k)
  local answers = {}
  for j = 1, k do
    answers[j] = math.random() < 0.15 and false or alphabet[math.random(#alphabet)]
  end
  return answers
end

local function random_case()
  local alphabet = ALPHABETS[math.random(#ALPHABETS)]
  local pm, acc = {}, {}
  for i = 1, math.random(0, 5) do
    local k = math.random(0, 9)
    pm[i] = {model = "m" .. i, answers = random_answers(alphabet, k)}
    if math.random() < 0.1 then pm[i].n = k + math.random(0, 2) end
    local pick = math.random(0, #ACCURACIES)
    if pick > 0 then
      if math.random() < 0.5 then acc[i] = ACCURACIES[pick] else acc["m" .. i] = ACCURACIES[pick] end
    end
  end
  local equivs = {nil, "exact", "math", caseless}
  local opts = {equiv = equivs[math.random(4)]}
  if math.random() < 0.8 then opts.accuracy = acc end
  return pm, opts, alphabet
end

local reasons = {}
for case = 1, 3000 do
  local pm, opts, alphabet = random_case()
  local d = same_mux(pm, opts, "random case " .. case)
  reasons[d.reason] = (reasons[d.reason] or 0) + 1
  same_weighted_models(pm, {equiv = opts.equiv})
  local flat, weights = random_answers(alphabet, math.random(0, 12)), {}
  for j = 1, #flat do weights[j] = math.random(0, 6) / 6 end
  same_majority(flat, {equiv = opts.equiv})
  same_weighted(flat, weights, {equiv = opts.equiv})
end
for _, reason in ipairs({"confidence", "tie_accuracy", "tie_order", "no_answer"}) do
  check((reasons[reason] or 0) > 50, "random cases reach " .. reason)
end

print(string.format("%d passed, 0 failed", passed))
