-- mux.vote (slmmux.vote): Algorithm 1, majority and weighted votes. Hand-
-- known decisions for every rule, then random cases checked field by field
-- against a reference that states the rules a set at a time (below), and
-- the one namespace: mux.vote is slmmux.vote, with the C count and search.
local mux = require "slmmux"
local vote = require "slmmux.vote"

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

-- The reference the decisions are checked against: the rules written as
-- plainly as possible, a set at a time, with no shared code. Grouping:
-- an answer joins the first group whose representative it equals.
local function equal_of(equiv)
  if equiv == "math" then return mux.math.equiv end
  if type(equiv) == "function" then return equiv end
  return function(a, b) return a == b end
end

local function ref_groups(answers, n, equal)
  local groups = {}
  for i = 1, n do
    local a = answers[i]
    if a then
      local g
      for _, h in ipairs(groups) do
        if not g and equal(answers[h.first], a) then g = h end
      end
      if not g then g = {first = i, count = 0, members = {}}; groups[#groups + 1] = g end
      g.count = g.count + 1
      g.members[#g.members + 1] = i
    end
  end
  return groups
end

-- The largest group, the earliest of those as large.
local function ref_top(groups)
  local best
  for _, g in ipairs(groups) do
    if not best or g.count > best.count then best = g end
  end
  return best
end

local function ref_accuracy(accuracy, i, name)
  local a = accuracy and (accuracy[i] or accuracy[name])
  if type(a) ~= "number" or a ~= a or a < 0 then return nil end
  return a
end

-- Algorithm 1: the models with the highest confidence (as fractions), of
-- those the ones with the best accuracy (known beats unknown), of those
-- the first.
local function ref_mux(per_model, opts)
  opts = opts or {}
  local equal, tops = equal_of(opts.equiv), {}
  for i, row in ipairs(per_model) do
    local k = row.n or #row.answers
    local top = ref_top(ref_groups(row.answers, k, equal))
    tops[i] = {model = row.model, k = k, count = top and top.count or 0,
      answer = top and row.answers[top.first]}
    tops[i].confidence = k > 0 and tops[i].count / k or 0
  end
  local tied = {}
  for i, t in ipairs(tops) do
    if t.count > 0 then
      local first = tops[tied[1]]
      if not first or t.count * first.k > first.count * t.k then tied = {i}
      elseif t.count * first.k == first.count * t.k then tied[#tied + 1] = i end
    end
  end
  if #tied == 0 then return {confidence = 0, reason = "no_answer", per_model = tops} end
  local reason, best = "confidence", tied
  if #tied > 1 then
    local top_acc, known = nil, false
    for _, i in ipairs(tied) do
      local a = ref_accuracy(opts.accuracy, i, tops[i].model)
      if a and (not known or a > top_acc) then top_acc, known = a, true end
    end
    best = {}
    for _, i in ipairs(tied) do
      if ref_accuracy(opts.accuracy, i, tops[i].model) == top_acc then best[#best + 1] = i end
    end
    reason = #best > 1 and "tie_order" or "tie_accuracy"
  end
  local w = tops[best[1]]
  return {answer = w.answer, model = w.model, index = best[1], confidence = w.count / w.k,
    reason = reason, per_model = tops}
end

-- vote.mux's decision, checked field by field against the reference.
local function checked_mux(per_model, opts, what)
  local l, want = vote.mux(per_model, opts), ref_mux(per_model, opts)
  local function same(x, y, field)
    check(x == y or (x ~= x and y ~= y), string.format("%s: %s is %s, the reference says %s", what,
      field, tostring(x), tostring(y)))
  end
  for _, f in ipairs({"answer", "model", "index", "confidence", "reason"}) do same(l[f], want[f], f) end
  check(#l.per_model == #want.per_model, what .. ": per_model length")
  for i, lp in ipairs(l.per_model) do
    for _, f in ipairs({"model", "answer", "count", "k", "confidence"}) do
      same(lp[f], want.per_model[i][f], "per_model[" .. i .. "]." .. f)
    end
  end
  return l
end

---------------------------------------------------------------------------
-- Algorithm 1: hand-known decisions

-- the worked example of the SLM-MUX project page: 2/3 vs 2/3 vs 1/3
local per_model = {
  {model = "qwen", answers = {"A", "A", "B"}},
  {model = "llama", answers = {"B", "C", "B"}},
  {model = "gemma", answers = {"A", "B", "C"}},
}
local r = checked_mux(per_model, {accuracy = {qwen = 0.4, llama = 0.6, gemma = 0.9}}, "page example")
check(r.answer == "B" and r.model == "llama" and r.index == 2 and r.reason == "tie_accuracy")
check(near(r.confidence, 2 / 3))
check(r.per_model[1].model == "qwen" and r.per_model[1].answer == "A" and r.per_model[1].count == 2
  and r.per_model[1].k == 3 and near(r.per_model[1].confidence, 2 / 3))
-- accuracy by position
r = checked_mux(per_model, {accuracy = {0.7, 0.6, 0.9}}, "by position")
check(r.model == "qwen" and r.reason == "tie_accuracy")
-- no accuracy: order decides
r = checked_mux(per_model, nil, "no accuracy")
check(r.model == "qwen" and r.answer == "A" and r.reason == "tie_order")
-- a single model takes its top group
r = checked_mux({{model = "a", answers = {"A", "B", "B"}}}, {accuracy = {0.5}}, "single")
check(r.model == "a" and r.index == 1 and r.answer == "B" and r.reason == "confidence")
check(r.per_model[1].count == 2 and r.per_model[1].k == 3)
-- the highest confidence wins, whatever the accuracy
r = checked_mux({{model = "a", answers = {"1", "2", "3"}}, {model = "b", answers = {"5", "5", "5"}}},
  {accuracy = {0.9, 0.1}}, "clear winner")
check(r.model == "b" and r.answer == "5" and r.confidence == 1 and r.reason == "confidence")
-- equal accuracy: order
r = checked_mux({{model = "a", answers = {"X", "X", "Y"}}, {model = "b", answers = {"Y", "Y", "X"}}},
  {accuracy = {0.5, 0.5}}, "accuracy tie")
check(r.model == "a" and r.answer == "X" and r.reason == "tie_order")
-- unknown accuracies (NaN, negative) tie by order; a known one beats unknown
r = checked_mux({{model = "a", answers = {"X", "Y"}}, {model = "b", answers = {"Y", "X"}}},
  {accuracy = {0 / 0, -1}}, "unknown accuracies")
check(r.model == "a" and r.reason == "tie_order")
r = checked_mux({{model = "a", answers = {"X", "X"}}, {model = "b", answers = {"Y", "Y"}}},
  {accuracy = {0 / 0, 0.05}}, "known beats unknown")
check(r.model == "b" and r.reason == "tie_accuracy")
r = checked_mux({{model = "a", answers = {"X", "X"}}, {model = "b", answers = {"Y", "Y"}}},
  {accuracy = {b = 0.05}}, "known by name beats absent")
check(r.model == "b" and r.reason == "tie_accuracy")
-- three-way tie; the best accuracy shared by models 2 and 3: the earlier, by order
r = checked_mux({{model = "a", answers = {"a", "b"}}, {model = "b", answers = {"c", "d"}},
  {model = "c", answers = {"e", "f"}}}, {accuracy = {0.3, 0.7, 0.7}}, "shared best")
check(r.model == "b" and r.index == 2 and r.reason == "tie_order")
-- ... and a better one after a shared pair wins on accuracy
r = checked_mux({{model = "a", answers = {"a"}}, {model = "b", answers = {"c"}},
  {model = "c", answers = {"e"}}}, {accuracy = {0.5, 0.5, 0.7}}, "better after shared")
check(r.model == "c" and r.reason == "tie_accuracy")
-- a model with no answer never wins, whatever its accuracy
r = checked_mux({{model = "a", answers = {false, false, false}}, {model = "b", answers = {"x", false, "y"}}},
  {accuracy = {0.99, 0.01}}, "all-false model")
check(r.model == "b" and r.answer == "x" and r.reason == "confidence" and near(r.confidence, 1 / 3))
check(r.per_model[1].count == 0 and r.per_model[1].answer == nil and r.per_model[1].confidence == 0
  and r.per_model[1].k == 3)
-- no answer anywhere
r = checked_mux({{model = "a", answers = {false, false}}, {model = "b", answers = {false}}},
  {accuracy = {0.5, 0.7}}, "no answer")
check(r.answer == nil and r.model == nil and r.index == nil and r.reason == "no_answer"
  and r.confidence == 0)
check(checked_mux({}, nil, "empty").reason == "no_answer")
-- failures count in k: "7" once of 2 is 1/2 < 2/3 (dropped from k it would be 1/1)
r = checked_mux({{model = "a", answers = {"7", false}}, {model = "b", answers = {"8", "8", "9"}}},
  {accuracy = {a = 1.0, b = 0.0}}, "failures in k")
check(r.model == "b" and r.reason == "confidence")
-- n: samples asked for, holes included
r = checked_mux({{model = "a", answers = {"7"}, n = 3}, {model = "b", answers = {"8", "9", "10"}}},
  nil, "n with holes")
check(r.model == "a" and r.reason == "tie_order" and r.per_model[1].k == 3)
-- confidence compared as fractions: 3/9 ties 1/3
r = checked_mux({{model = "a", answers = {"a", "b", "c"}},
  {model = "b", answers = {"z", "z", "z", "y", "x", "w", "v", "u", "t"}}},
  {accuracy = {0.2, 0.8}}, "fractions")
check(r.model == "b" and r.reason == "tie_accuracy" and r.answer == "z")
-- a model with no samples at all (k = 0) is skipped
r = checked_mux({{model = "a", answers = {}}, {model = "b", answers = {"q", "r", "s"}}}, nil, "k = 0")
check(r.model == "b" and r.reason == "confidence" and r.per_model[1].confidence == 0)
-- the equivalence decides the groups
r = checked_mux({{model = "a", answers = {"y", "x", "X"}}, {model = "b", answers = {"p", "q", "p"}}},
  {equiv = caseless, accuracy = {0.1, 0.9}}, "caseless tie")
check(r.model == "b" and r.reason == "tie_accuracy")
r = checked_mux({{model = "a", answers = {"y", "x", "X"}}, {model = "b", answers = {"p", "q", "p"}}},
  {equiv = caseless, accuracy = {0.1, 0.05}}, "caseless")
check(r.model == "a" and r.answer == "x" and r.reason == "tie_accuracy")
r = checked_mux({{model = "a", answers = {"y", "x", "X"}}, {model = "b", answers = {"p", "q", "p"}}},
  {accuracy = {0.1, 0.05}}, "bytes")
check(r.model == "b" and r.reason == "confidence")
r = checked_mux({{model = "a", answers = {"\\frac{1}{2}", "0.5", "\\dfrac12"}},
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
raises("mux.vote.mux: per_model[1] must be a table", vote.mux, {"A"})
raises("per_model[1].answers must be a table", vote.mux, {{model = "a"}})
raises("per_model[2].answers[1] must be a string", vote.mux,
  {{model = "a", answers = {"x"}}, {model = "b", answers = {1}}})
raises("per_model[1].model must be a string", vote.mux, {{model = 7, answers = {}}})
raises("per_model[1].n must be a non-negative integer", vote.mux, {{answers = {}, n = -1}})
raises("mux.vote.mux: opts.accuracy must be a table (got number)", vote.mux, per_model, {accuracy = 0.5})
raises("accuracy of model 1 must be a number", vote.mux, per_model, {accuracy = {"high"}})
raises("mux.vote.mux: unknown field opts.acc (known: accuracy, equiv)", vote.mux, per_model, {acc = {}})
raises('opts.equiv must be "exact", "math" or a function (got "fuzzy")', vote.mux, per_model,
  {equiv = "fuzzy"})
raises("boom", vote.mux, per_model, {equiv = function() error("boom") end})
raises("mux.vote.mux: per_model must be an array", vote.mux, "x")
raises("mux.vote.select: tops must be an array", vote.select, nil)
raises("mux.vote.top: per_model[1] must be a table", vote.top, "x")

-- ... and the error is raised at the caller's line, not inside slmmux.vote
local function at_caller(fn)
  local ok, err = pcall(fn)
  check(not ok and tostring(err):find("^[^:]*test_vote_lua%.lua:%d+: mux%.vote%."), "raised at: " .. tostring(err))
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
-- Majority and weighted votes: hand-known decisions

-- Majority: the largest group, the earliest of those as large.
local function checked_majority(answers, opts)
  local a, n, first = vote.majority(answers, opts)
  local top = ref_top(ref_groups(answers, opts and opts.n or #answers, equal_of(opts and opts.equiv)))
  check(a == (top and answers[top.first]) and n == (top and top.count or 0)
    and first == (top and top.first), "majority: " .. tostring(a) .. " against the reference "
    .. tostring(top and answers[top.first]))
  return a, n, first
end

local a, n, first = checked_majority({false, "7", "8", "8", "7", "9"})
check(a == "7" and n == 2 and first == 2, "majority: ties to first appearance")
a, n = checked_majority({"7", "8", "8"})
check(a == "8" and n == 2)
a, n = checked_majority({false, false})
check(a == nil and n == 0)
a, n = checked_majority({})
check(a == nil and n == 0)
a, n = checked_majority({"x", "X", "y"}, {equiv = caseless})
check(a == "x" and n == 2)
a, n = checked_majority({nil, "x", nil, "x"}, {n = 4})
check(a == "x" and n == 2)
a, n = checked_majority({"", false, ""})
check(a == "" and n == 2, "the empty string is an answer")
a, n = checked_majority({"a\0b", "a\0c", "a\0c"})
check(a == "a\0c" and n == 2, "bytes past NUL")
raises("mux.vote.majority: answers[2] must be a string", vote.majority, {"a", 7})
raises("mux.vote.majority: unknown field opts.equal", vote.majority, {"a"}, {equal = "exact"})

-- Weighted: the first group no other outweighs by more than a relative
-- 1e-9 (the weights of the random cases are sixths, so sums are equal
-- or differ by at least 1/6).
local function ref_weighted(answers, weights, n, equiv)
  local best
  local groups = ref_groups(answers, n, equal_of(equiv))
  for _, g in ipairs(groups) do
    g.weight = 0
    for _, i in ipairs(g.members) do g.weight = g.weight + weights[i] end
  end
  for _, g in ipairs(groups) do
    local outweighed = false
    for _, h in ipairs(groups) do
      outweighed = outweighed or h.weight - g.weight > 1e-9 * math.max(math.abs(g.weight), math.abs(h.weight))
    end
    if not outweighed and not best then best = g end
  end
  return best
end

local function checked_weighted(answers, weights, opts)
  local la, lw = vote.weighted(answers, weights, opts)
  local g = ref_weighted(answers, weights, opts and opts.n or #answers, opts and opts.equiv)
  check(la == (g and answers[g.first]) and near(lw, g and g.weight or 0), "weighted: "
    .. tostring(la) .. " against the reference " .. tostring(g and answers[g.first]))
  return la, lw
end

local w
a, w = checked_weighted({"a", "b", "b", "c"}, {0.9, 0.4, 0.4, 0.1})
check(a == "a" and near(w, 0.9))
a, w = checked_weighted({"a", "b", "b", "c"}, {0.5, 0.4, 0.4, 0.1})
check(a == "b" and near(w, 0.8))
-- 1/3 + 1/3 + 1/3 against 1.0: a tie within rounding, the first wins
a = checked_weighted({"x", "y", "y", "y"}, {1.0, 1 / 3, 1 / 3, 1 / 3})
check(a == "x", "rounding tie")
a = checked_weighted({"x", "y", "y", "y"}, {1 / 3, 1 / 3, 1 / 3, 1 / 3 + 1e-6})
check(a == "y", "a clear margin wins")
a, w = checked_weighted({false}, {1})
check(a == nil and w == 0)
a = checked_weighted({false, "b"}, {"ignored", 1})
check(a == "b", "no weight needed where there is no answer")
raises("weights[2] must be a number", vote.weighted, {"a", "b"}, {1, "x"})
raises("weights[1] must be finite", vote.weighted, {"a"}, {1 / 0})
raises("mux.vote.weighted: weights must be a table (got nil)", vote.weighted, {"a"}, nil)

-- Weighted by model: every answer weighs its model's confidence.
local function checked_weighted_models(pm, opts)
  local la, lw, lm = vote.weighted_models(pm, opts)
  local tops = ref_mux(pm, opts).per_model
  local flat, weights, owner = {}, {}, {}
  for i, row in ipairs(pm) do
    for j = 1, tops[i].k do
      flat[#flat + 1], weights[#flat + 1], owner[#flat + 1] = row.answers[j] or false, tops[i].confidence, row.model
    end
  end
  local g = ref_weighted(flat, weights, #flat, opts and opts.equiv)
  check(la == (g and flat[g.first]) and near(lw, g and g.weight or 0) and lm == (g and owner[g.first]),
    "weighted_models: " .. tostring(la) .. "/" .. tostring(lm) .. " against the reference "
    .. tostring(g and flat[g.first]) .. "/" .. tostring(g and owner[g.first]))
  return la, lw, lm
end

-- "5" from a sure model (3 x 1) beats four "6"s at 2/3 (2.67), which a
-- plain majority would pick
local three = {{model = "sure", answers = {"5", "5", "5"}},
  {model = "m1", answers = {"6", "6", "1"}}, {model = "m2", answers = {"6", "6", "2"}}}
check(vote.majority({"5", "5", "5", "6", "6", "1", "6", "6", "2"}) == "6")
local m
a, w, m = checked_weighted_models(three)
check(a == "5" and m == "sure" and near(w, 3))
-- model 2 asked for 2 samples: its "6","6" is 2/2, so "6" has 4/3 + 2 = 3.33
three[3].n = 2
a, w, m = checked_weighted_models(three)
check(a == "6" and m == "m1" and near(w, 2 / 3 * 2 + 2))
a, w, m = checked_weighted_models({{model = "m1", answers = {"y", "X", "x"}},
  {model = "m2", answers = {"p", "q"}}}, {equiv = caseless})
check(a == "X" and m == "m1" and near(w, 4 / 3))
a, w = checked_weighted_models({{model = "a", answers = {false}}})
check(a == nil and w == 0)

---------------------------------------------------------------------------
-- Random cases: the decisions the reference makes

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

-- one namespace: mux.vote is this module, count and search are the C core's
check(mux.vote == vote, "mux.vote is slmmux.vote")
check(vote.count == require("slmmux.core").vote.count and vote.search == require("slmmux.core").vote.search)
for _, name in ipairs({"count", "search", "top", "select", "mux", "majority", "weighted", "weighted_models"}) do
  check(type(mux.vote[name]) == "function", "mux.vote." .. name)
end
check(mux.vote.count({"a", "b", "b"})[1].answer == "b")
check(#mux.vote.search{correct = {{true, false}, {false, true}}} == 2)
check(mux.vote.mux({{model = "m", answers = {"1", "1"}}}).answer == "1")

local reasons = {}
for case = 1, 3000 do
  local pm, opts, alphabet = random_case()
  local d = checked_mux(pm, opts, "random case " .. case)
  reasons[d.reason] = (reasons[d.reason] or 0) + 1
  checked_weighted_models(pm, {equiv = opts.equiv})
  local flat, weights = random_answers(alphabet, math.random(0, 12)), {}
  for j = 1, #flat do weights[j] = math.random(0, 6) / 6 end
  checked_majority(flat, {equiv = opts.equiv})
  checked_weighted(flat, weights, {equiv = opts.equiv})
end
for _, reason in ipairs({"confidence", "tie_accuracy", "tie_order", "no_answer"}) do
  check((reasons[reason] or 0) > 50, "random cases reach " .. reason)
end

print(string.format("%d passed, 0 failed", passed))
