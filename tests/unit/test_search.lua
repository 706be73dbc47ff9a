-- The model-selection search's definitions on a hand-made pool (k = 3
-- samples per model and question): robust_level, confidently wrong, the
-- normalisation of the contradiction rate (which changes the winner here),
-- the offline SLM-MUX accuracy, the best single model, a negative best,
-- and cross-validated lambda.
local panel = require "slmmux.analysis.panel"
local search = require "slmmux.analysis.search"

local pass, fail = 0, 0
local function check(cond, msg)
  if cond then pass = pass + 1 else fail = fail + 1; print("FAIL " .. msg) end
end

local Q = 20
-- sample patterns: "R" is the reference; W a wrong answer; nil: none extracted
local SOLVES = {"R", "R", "x"}
local ONE = {"R", "a", "b"}           -- one right of three: solves only with robust_level 1
local CONF_WRONG = {"W", "W", "W"}
local NONE = {nil, nil, nil}
local SCATTER = {"a", "b", "c"}

-- pool[m](q) -> pattern
local pool = {
  m0 = function(q) return q <= 5 and SOLVES or SCATTER end,
  m1 = function(q) return (q >= 6 and q <= 10) and SOLVES or (q <= 4 and CONF_WRONG or SCATTER) end,
  m2 = function(q) return (q == 1 or q == 3 or q == 5) and SOLVES or SCATTER end,
  m3 = function(q) return (q == 2 or q == 4) and SOLVES or SCATTER end,
  m4 = function(q) return q <= 7 and SOLVES or SCATTER end,
  m5 = function(q) return q == 1 and CONF_WRONG or SCATTER end,
}
local NAMES = {"m0", "m1", "m2", "m3", "m4", "m5"}

local function lines_of(names, pools)
  local lines = {}
  for q = 1, Q do
    local models = {}
    for i, name in ipairs(names) do
      local pat, calls = pools[name](q), {}
      for s = 1, 3 do calls[s] = {answer = pat[s], correct = pat[s] == "R", turn = i, choice = s} end
      models[i] = {model = name, calls = calls}
    end
    lines[q] = {id = string.format("q%02d", q), models = models, correct = false}
  end
  return lines
end

local P = assert(panel.build(lines_of(NAMES, pool), NAMES, 3, "exact"))
check(#P.ids == Q and P.samples == 3, "the panel holds every question")

-- per solved question (the reference): {m0, m4} 7/20 - 0 = 0.35 beats
-- {m0, m1} 10/20 - 0.5 * 4/10 = 0.3
local r = search.run(P, {max_size = 2, top = 3, folds = 5})
local best = r.sizes[2].ranked[1]
check(table.concat(best.models, ",") == "m0,m4", "per solved: {m0, m4} wins, got " .. table.concat(best.models, ","))
check(best.score == 7 / 20 and best.contradictions == 0 and best.solved == 7, "its score 0.35")
-- its offline SLM-MUX accuracy: right on q1-7 (m0 and m4 both 2/3 there, or m4 alone), wrong elsewhere
check(best.mux == 7 / 20, "offline SLM-MUX of {m0, m4}: " .. best.mux)
-- ties at 0.35 with the same union ({m2, m4}, {m3, m4}) come after, in combinations order
check(table.concat(r.sizes[2].ranked[2].models, ",") == "m2,m4" and
  table.concat(r.sizes[2].ranked[3].models, ",") == "m3,m4", "ties keep combinations order")
-- per question: {m0, m1} 0.5 - 0.5 * 4/20 = 0.4 wins
local r_all = search.run(P, {max_size = 2, normalize = "all"})
local b_all = r_all.sizes[2].ranked[1]
check(table.concat(b_all.models, ",") == "m0,m1" and b_all.score == 10 / 20 - 0.5 * (4 / 20),
  "per question: {m0, m1} wins, got " .. table.concat(b_all.models, ","))

-- confidently wrong: three equal wrong answers; never three missing answers
local solved, wrong = search.bits(P, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 2)
check(wrong[2][1] and wrong[2][4] and not wrong[2][5] and wrong[6][1] and not wrong[1][1],
  "W,W,W is confidently wrong")
check(solved[1][1] and solved[1][5] and not solved[1][6], "R,R,x solves at robust_level 2")

local pool2 = {m0 = pool.m0, blank = function(q) return q <= 10 and NONE or SCATTER end,
  one = function() return ONE end}
local P2 = assert(panel.build(lines_of({"m0", "blank", "one"}, pool2), {"m0", "blank", "one"}, 3, "exact"))
local _, wrong2 = search.bits(P2, {1, 2, 3}, 2)
check(not wrong2[2][1] and not wrong2[2][2], "no answer thrice is not confidently wrong")
-- robust_level: "one" solves nothing at 2, everything at 1
local s2 = search.run(P2, {max_size = 2, folds = 2})
check(table.concat(s2.sizes[2].ranked[1].models, ",") == "m0,blank" and s2.sizes[2].ranked[1].union == 5 / 20,
  "robust_level 2: the one-right model adds nothing (union 5/20, first pair)")
local s1 = search.run(P2, {max_size = 2, robust_level = 1, folds = 2})
check(s1.sizes[2].ranked[1].union == 1 and s1.sizes[2].ranked[1].models[2] == "one",
  "robust_level 1: the one-right model solves every question")

-- the best single model: by share of right samples (m4: 7 questions x 2/3)
check(r.single.model == "m4" and math.abs(r.single.pass1 - 14 / 60) < 1e-12 and r.single.sc == 7 / 20,
  "best single model m4, pass@1 14/60, SC@3 7/20")

-- a negative best is kept and flagged
local P3 = assert(panel.build(lines_of({"m0", "m1"}, pool), {"m0", "m1"}, 3, "exact"))
local neg = search.run(P3, {lambda = 10, folds = 2})
check(neg.sizes[2].ranked[1].negative and neg.sizes[2].ranked[1].score < 0, "a best below 0 is flagged")

-- cross-validated lambda: one of the grid, held-out accuracy per size
check(r.cv and r.cv.folds == 5 and r.cv.heldout[2] ~= nil and r.cv.lambda ~= nil, "cross-validation ran")
local in_grid = false
for _, l in ipairs(search.DEFAULTS.lambdas) do in_grid = in_grid or l == r.cv.lambda end
check(in_grid, "the chosen lambda is one of the grid")
-- with only lambda = 0 and lambda = 2 to choose from: at 0 the search
-- picks the largest union, {m0, m1}, whose SLM-MUX is right on q5-10 only
-- (m1's unanimous wrong answer beats m0's 2 of 3 on q1-4: the
-- contradiction the penalty is for); at 2 the contradiction-free {m0, m4},
-- right on q1-7: lambda 2 wins held out
local cv = search.run(P, {max_size = 2, lambdas = {0, 2}, folds = 4}).cv
check(cv.lambda == 2, "cross-validation picks lambda 2 here, got " .. tostring(cv.lambda))
check(cv.heldout[2] == 7 / 20, "held out, {m0, m4} is right on 7 of 20: " .. cv.heldout[2])
check(search.run(P, {max_size = 2, lambda = 0}).sizes[2].ranked[1].mux == 6 / 20,
  "offline SLM-MUX of {m0, m1}: 6 of 20")

-- search order: the best pair's members (more accurate first), then the rest by accuracy
check(r.order[1] == "m4" and r.order[2] == "m0" and #r.order == 6, "search order " .. table.concat(r.order, ","))

print(string.format("%d passed, %d failed", pass, fail))
if fail > 0 then os.exit(1) end
