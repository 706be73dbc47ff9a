-- mux.vote.count and mux.vote.search, the C half of mux.vote: the
-- binding's shapes, options and misuse errors (group.c's and search.c's own
-- cases: test_vote.c; the votes written in Lua: test_vote_lua.lua).
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

-- top (core.vote.top, under vote.lua's top and mux): count's first group
-- as three values, on random arrays of short answers and failures
local core = require "slmmux.core"
math.randomseed(7)
for _ = 1, 2000 do
  local n, answers = math.random(0, 9), {}
  for j = 1, n do
    local r = math.random(0, 4)
    answers[j] = r > 0 and tostring(r) or false
  end
  local equiv = ({"exact", "math", nil})[math.random(3)]
  local groups = vote.count(answers, {equiv = equiv, n = n})
  local answer, c, first = core.vote.top(answers, {equiv = equiv, n = n})
  if groups[1] then
    assert(answer == groups[1].answer and c == groups[1].count and first == groups[1].first)
  else
    assert(answer == nil and c == 0 and first == nil)
  end
end
raises("mux.vote.top: answers[2] must be a string", core.vote.top, {"a", 3})

-- an equiv function that empties the caller's array and collects: the
-- strings being compared stay alive (anchored), so the groups are right
-- (and make asan sees no use after free)
local function emptied(fn)
  local answers = {}
  for j = 1, 6 do answers[j] = string.rep("s", 40) .. (j % 2) end
  return fn(answers, {equiv = function(a, b)
    for j = 1, 6 do answers[j] = nil end
    collectgarbage()
    return a == b
  end, n = 6})
end
assert(emptied(vote.count)[1].count == 3 and emptied(vote.count)[1].answer == string.rep("s", 40) .. "1")
local answer, c = emptied(core.vote.top)
assert(answer == string.rep("s", 40) .. "1" and c == 3)

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
-- min_size, top (ranked, best first), normalize, the counts
res = vote.search{
  correct = {{T, T, F, F}, {F, F, T, F}, {F, F, F, T}},
  wrong = {{F, F, T, F}, {T, F, F, F}, {F, F, F, F}},
  lambda = 1.0, min_size = 2, max_size = 2, top = 3}
assert(res[1] == nil and res[3] == nil and #res[2].ranked == 3)
assert(res[2].ranked[1].models[2] == 3 and res[2].ranked[2].models[1] == 2 and res[2].ranked[3].models[2] == 2)
assert(res[2].ranked[3].solved == 3 and res[2].ranked[3].contradictions == 2)
assert(res[2].ranked[3].contradiction == 2 / 3 and res[2].ranked[3].score == 0.75 - 2 / 3)
res = vote.search{correct = {{T, T, F, F}, {F, F, T, F}}, wrong = {{F, F, T, F}, {T, F, F, F}},
  lambda = 1.0, min_size = 2, normalize = "all"}
assert(res[2].contradiction == 0.5 and res[2].score == 0.25)
-- the default lambda is the reference's 0.5
res = vote.search{correct = {{T, T, F, F}, {F, F, T, F}}, wrong = {{F, F, T, F}, {T, F, F, F}}, min_size = 2}
assert(res[2].score == 0.75 - 0.5 * 2 / 3)
raises("args.normalize must be \"solved\" or \"all\"", vote.search, {correct = {{T}}, normalize = "q"})
raises("args.top must be an integer from 1 to 64", vote.search, {correct = {{T}}, top = 0})
raises("args.min_size (2) exceeds", vote.search, {correct = {{T}}, min_size = 2})
raises("mux.vote.search: args.correct must be a table", vote.search, {})
raises("correct[2] has 1 entries", vote.search, {correct = {{T, F}, {T}}})
raises("correct[1][2] must be a boolean", vote.search, {correct = {{T, 1}}})
raises("mux.vote.search: unknown field args.lamda", vote.search, {correct = {{T}}, lamda = 2})
raises("max_size", vote.search, {correct = {{T}}, max_size = 0})
local many = {}
for i = 1, 33 do many[i] = {T} end
raises("1 to 32 models", vote.search, {correct = many})

print("test_vote.lua: ok")
