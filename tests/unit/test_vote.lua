-- mux.vote: the binding's shapes, options and misuse errors, and the
-- Algorithm 1 tie rules seen from Lua. vote.c's own cases: test_vote.c.
local mux = require "slmmux"
local vote = mux.vote

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern, 1, true), "error was: " .. tostring(err))
end

-- count: groups by count, then first appearance; false never groups
local g = vote.count({"b", false, "a", "a", "b", "c", false})
assert(#g == 3)
assert(g[1].answer == "b" and g[1].count == 2 and g[1].first == 1)
assert(g[2].answer == "a" and g[2].count == 2 and g[2].first == 3)
assert(g[3].answer == "c" and g[3].count == 1 and g[3].first == 6)
assert(#vote.count({false, false}) == 0)
assert(#vote.count({}) == 0)
-- nil holes with an explicit n
g = vote.count({nil, "x", nil, "x"}, {n = 4})
assert(#g == 1 and g[1].count == 2 and g[1].first == 2)

-- equiv: a function, or "math"
local calls = 0
local function caseless(a, b) calls = calls + 1; return a:lower() == b:lower() end
g = vote.count({"X", "x", "y"}, {equiv = caseless})
assert(#g == 2 and g[1].count == 2 and g[1].answer == "X" and calls > 0)
assert(#vote.count({"X", "x"}, {equiv = "exact"}) == 2)
g = vote.count({"42", " 42"}, {equiv = "math"})
assert(#g == 1 and g[1].count == 2, "math equivalence groups 42 with ' 42'")
raises("boom", vote.count, {"a", "b"}, {equiv = function() error("boom") end})
raises("equiv", vote.count, {"a"}, {equiv = "fuzzy"})
raises("mux.vote.count: unknown field opts.equal", vote.count, {"a"}, {equal = "exact"})
raises("answers[2] must be a string", vote.count, {"a", 7})
raises("mux.vote.count: answers must be a table (got string)", vote.count, "a")

-- mux: Algorithm 1
local per_model = {
  {model = "qwen", answers = {"A", "A", "B"}},
  {model = "llama", answers = {"B", "C", "B"}},
  {model = "gemma", answers = {"A", "B", "C"}},
}
local r = vote.mux(per_model, {accuracy = {qwen = 0.4, llama = 0.6, gemma = 0.9}})
assert(r.answer == "B" and r.model == "llama" and r.index == 2 and r.reason == "tie_accuracy")
assert(math.abs(r.confidence - 2 / 3) < 1e-12)
assert(#r.per_model == 3)
assert(r.per_model[1].model == "qwen" and r.per_model[1].answer == "A" and r.per_model[1].count == 2
  and r.per_model[1].k == 3 and math.abs(r.per_model[1].confidence - 2 / 3) < 1e-12)
-- accuracy by position
r = vote.mux(per_model, {accuracy = {0.7, 0.6, 0.9}})
assert(r.model == "qwen" and r.reason == "tie_accuracy")
-- no accuracy: order decides
r = vote.mux(per_model)
assert(r.model == "qwen" and r.answer == "A" and r.reason == "tie_order")
-- a clear winner
r = vote.mux({{model = "a", answers = {"1", "2", "3"}}, {model = "b", answers = {"5", "5", "5"}}})
assert(r.model == "b" and r.answer == "5" and r.confidence == 1 and r.reason == "confidence")
-- failures count in k: "7" once of 2 is 1/2 < 2/3
r = vote.mux({{model = "a", answers = {"7", false}}, {model = "b", answers = {"8", "8", "9"}}},
  {accuracy = {a = 1.0, b = 0.0}})
assert(r.model == "b" and r.reason == "confidence")
-- an all-false model cannot win; all false everywhere: no answer
r = vote.mux({{model = "a", answers = {false, false}}, {model = "b", answers = {"x", false}}})
assert(r.model == "b" and r.answer == "x")
r = vote.mux({{model = "a", answers = {false}}, {model = "b", answers = {false, false}}})
assert(r.answer == nil and r.model == nil and r.index == nil and r.reason == "no_answer" and r.confidence == 0)
assert(r.per_model[2].k == 2 and r.per_model[2].count == 0 and r.per_model[2].answer == nil)
r = vote.mux({})
assert(r.reason == "no_answer")
-- equiv in mux
r = vote.mux({{model = "a", answers = {"X", "x", "y"}}, {model = "b", answers = {"p", "q", "r"}}},
  {equiv = caseless})
assert(r.model == "a" and r.answer == "X" and r.per_model[1].count == 2)
raises("per_model[1] must be a table", vote.mux, {"A"})
raises("per_model[1].answers must be a table", vote.mux, {{model = "a"}})
raises("per_model[2].answers[1] must be a string", vote.mux,
  {{model = "a", answers = {"x"}}, {model = "b", answers = {1}}})
raises("accuracy", vote.mux, per_model, {accuracy = 0.5})
raises("accuracy of model 1 must be a number", vote.mux, per_model, {accuracy = {"high"}})
raises("mux.vote.mux: unknown field opts.acc", vote.mux, per_model, {acc = {}})
raises("boom", vote.mux, per_model, {equiv = function() error("boom") end})

-- majority: ties to first appearance
local a, c = vote.majority({false, "7", "8", "8", "7", "9"})
assert(a == "7" and c == 2)
a, c = vote.majority({false})
assert(a == nil and c == 0)
a, c = vote.majority({"x", "X", "y"}, {equiv = caseless})
assert(a == "x" and c == 2)

-- weighted
local w
a, w = vote.weighted({"a", "b", "b", "c"}, {0.9, 0.4, 0.4, 0.1})
assert(a == "a" and math.abs(w - 0.9) < 1e-12)
a, w = vote.weighted({"a", "b", "b"}, {0.5, 0.4, 0.4})
assert(a == "b" and math.abs(w - 0.8) < 1e-12)
a, w = vote.weighted({false}, {1})
assert(a == nil and w == 0)
raises("weights[2] must be a number", vote.weighted, {"a", "b"}, {1, "x"})
raises("mux.vote.weighted: weights must be a table (got nil)", vote.weighted, {"a"}, nil)
-- weighted by model confidence: "5" from a sure model beats four "6"s at 2/3
local m
a, w, m = vote.weighted({{model = "sure", answers = {"5", "5", "5"}},
  {model = "m1", answers = {"6", "6", "1"}}, {model = "m2", answers = {"6", "6", "2"}}})
assert(a == "5" and m == "sure" and math.abs(w - 3) < 1e-12)
a, w, m = vote.weighted({{model = "m1", answers = {"y", "X", "x"}}, {model = "m2", answers = {"p", "q"}}},
  {equiv = caseless})
assert(a == "X" and m == "m1" and math.abs(w - 4 / 3) < 1e-12)

-- search: the hand-computed case of test_vote.c
local T, F = true, false
local res = vote.search{
  correct = {{T, T, F, F}, {F, F, T, F}, {F, F, F, T}},
  wrong = {{F, F, T, F}, {T, F, F, F}, {F, F, F, F}},
  lambda = 1.0, max_size = 3}
assert(#res == 3)
assert(#res[1].models == 1 and res[1].models[1] == 1 and res[1].score == 0.5)
assert(res[2].models[1] == 1 and res[2].models[2] == 3 and res[2].union == 0.75 and res[2].contradiction == 0)
assert(#res[3].models == 3 and res[3].union == 1 and res[3].contradiction == 0.5 and res[3].score == 0.5)
-- wrong omitted, lambda default, max_size default = number of models
res = vote.search{correct = {{T, F}, {F, T}}}
assert(#res == 2 and res[2].union == 1 and res[1].models[1] == 1)
raises("mux.vote.search: args.correct must be a table", vote.search, {})
raises("correct[2] has 1 entries", vote.search, {correct = {{T, F}, {T}}})
raises("correct[1][2] must be a boolean", vote.search, {correct = {{T, 1}}})
raises("mux.vote.search: unknown field args.lamda", vote.search, {correct = {{T}}, lamda = 2})
raises("max_size", vote.search, {correct = {{T}}, max_size = 0})
local many = {}
for i = 1, 33 do many[i] = {T} end
raises("1 to 32 models", vote.search, {correct = many})

print("test_vote.lua: ok")
