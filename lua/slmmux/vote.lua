-- mux.vote: choosing one answer from many. SLM-MUX's Algorithm 1 (Wang et
-- al. 2025, arXiv:2510.05077), the majority vote of Agent Forest (Li et al.
-- 2024) and a confidence-weighted vote are policy, so they are Lua, here;
-- grouping answers, answer equivalence and the model-subset search are
-- mechanisms and stay in C (count, search and the per-model top under
-- vote.top are the C core's).
--
-- An answer is a string; false or nil is "no answer" (a failed extraction
-- or request): it never joins a group and never wins. `equiv` is "exact"
-- (the default), "math" or a function(a, b) -> boolean.
--
--   vote.count(answers [, opts])     groups of equal answers (C)
--   vote.search{correct =, ...}      the best model subset of each size (C)
--   vote.top(row [, equiv])          one model's most common answer and confidence
--   vote.select(tops [, accuracy])   Algorithm 1's choice among those
--   vote.mux(per_model [, opts])     both steps: the SLM-MUX decision
--   vote.majority(answers [, opts])  plain majority, ties to first appearance
--   vote.weighted(answers, weights [, opts]), vote.weighted_models(per_model [, opts])
--
-- Misuse raises as the C bindings do, "recipe.lua:12: mux.vote.mux: what is
-- wrong", at the recipe's line past the library's frames (core.misuse).
-- This module needs the core only: slmmux (init.lua) requires it as mux.vote.
local core = require "slmmux.core"

local M = {}

local count = core.vote.count
local core_top = core.vote.top
M.count = count
M.search = core.vote.search
M.panel = core.vote.panel   -- stored samples as answer classes, for offline votes (src/bind/panel.c)

local function fail(fname, fmt, ...)
  core.misuse("mux.vote." .. fname .. ": " .. string.format(fmt, ...))
end

local EQUIV_NAMES = {exact = true, math = true}

-- n as an integer >= 0, or nil (integral floats pass, as in mux.vote.count).
local function count_of(n)
  local i = type(n) == "number" and math.tointeger(n)
  return i and i >= 0 and i or nil
end

local function check_equiv(fname, what, e)
  if e ~= nil and not EQUIV_NAMES[e] and type(e) ~= "function" then
    fail(fname, "%s must be \"exact\", \"math\" or a function (got %s)", what,
      type(e) == "string" and string.format("%q", e) or type(e))
  end
end

-- A list of option names that is also a set of them, for options().
local function names(list)
  for _, name in ipairs(list) do list[name] = true end
  return list
end

-- opts checked against the known option names (names() of a sorted list); returns
-- opts (or an empty table).
local function options(fname, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(fname, "opts must be a table (got %s)", type(opts)) end
  for k in pairs(opts) do
    if not known[k] then
      fail(fname, "unknown field opts.%s (known: %s)", tostring(k), table.concat(known, ", "))
    end
  end
  check_equiv(fname, "opts.equiv", opts.equiv)
  if opts.n ~= nil and not count_of(opts.n) then
    fail(fname, "opts.n must be a non-negative integer")
  end
  return opts
end

-- answers[1..n] must be strings, false or nil; n defaults to #answers.
local function check_answers(fname, answers, n, what)
  if type(answers) ~= "table" then fail(fname, "%s must be a table (got %s)", what, type(answers)) end
  n = count_of(n) or #answers
  for i = 1, n do
    local a = answers[i]
    if a and type(a) ~= "string" then
      fail(fname, "%s[%d] must be a string, false or nil (got %s)", what, i, type(a))
    end
  end
  return n
end

---------------------------------------------------------------------------
-- SLM-MUX, Algorithm 1

local function check_row(fname, row, i)
  if type(row) ~= "table" then
    fail(fname, "per_model[%d] must be a table {model=, answers=} (got %s)", i, type(row))
  end
  if row.model ~= nil and type(row.model) ~= "string" then
    fail(fname, "per_model[%d].model must be a string (got %s)", i, type(row.model))
  end
  local k = row.n
  if k ~= nil and not count_of(k) then
    fail(fname, "per_model[%d].n must be a non-negative integer", i)
  end
  return check_answers(fname, row.answers, k, "per_model[" .. i .. "].answers")
end

-- The answers are checked on the error path only: the C top rejects a bad
-- answer itself, and check_row then names it (else the error came from an
-- equiv function and goes on as it was). Checking every answer first cost
-- a tenth of a decision (tests/bench/bench_vote.sh, exact, k = 3). copts is
-- the options table handed to C, {equiv =, n =}, reused across the rows of
-- one decision: a decision allocates the tables it returns and no others.
local function top_of(fname, row, i, copts)
  if type(row) ~= "table" or type(row.answers) ~= "table"
    or (row.model ~= nil and type(row.model) ~= "string") or (row.n ~= nil and not count_of(row.n)) then
    check_row(fname, row, i)
  end
  local answers = row.answers
  local k = row.n and count_of(row.n) or #answers
  copts.n = k
  local ok, answer, c = pcall(core_top, answers, copts)
  if not ok then
    check_row(fname, row, i)
    error(answer, 0)
  end
  return {model = row.model, answer = answer, count = c, k = k,
    confidence = k > 0 and c / k or 0}
end

--- Step 2 for one model. row = {model =, answers = {y1..yk} [, n = k]}: k
-- counts every sample asked for, failed ones included, since a failure is
-- evidence of unreliability, not a missing vote ("7" once and two failures
-- is 1/3, not 1/1). Returns {model =, answer = its most common answer (ties:
-- the first seen), count =, k =, confidence = count / k}.
function M.top(row, equiv)
  check_equiv("top", "equiv", equiv)
  return top_of("top", row, 1, {equiv = equiv})
end

-- Model i's validation accuracy: accuracy[i], else accuracy[name]; nil
-- when unknown (absent, NaN or negative).
local function accuracy_of(fname, accuracy, i, name)
  if accuracy == nil then return nil end
  local a = rawget(accuracy, i)
  if a == nil and type(name) == "string" then a = rawget(accuracy, name) end
  if a ~= nil and type(a) ~= "number" then
    fail(fname, "accuracy of model %d must be a number (got %s)", i, type(a))
  end
  if a == nil or a ~= a or a < 0 then return nil end
  return a
end

-- 1 when accuracy a beats b, 0 when they are the same, -1 when it is worse;
-- a known accuracy beats an unknown one.
local function compare_accuracy(a, b)
  if a == nil or b == nil then return (a and 1 or 0) - (b and 1 or 0) end
  return a > b and 1 or a < b and -1 or 0
end

-- The most confident model: the first index with the highest count/k,
-- compared exactly as fractions (2/6 ties 1/3), and how many share it.
local function most_confident(tops)
  local best, tied = nil, 0
  for i, t in ipairs(tops) do
    if t.count > 0 then
      if not best then
        best, tied = i, 1
      else
        local mine, theirs = t.count * tops[best].k, tops[best].count * t.k
        if mine > theirs then best, tied = i, 1
        elseif mine == theirs then tied = tied + 1 end
      end
    end
  end
  return best, tied
end

-- Among the models tied with `best`: the highest validation accuracy
-- (tie_accuracy), or the earliest of those sharing it (tie_order).
local function break_tie(tops, best, acc)
  local win, shared = nil, false
  for i = best, #tops do
    local t = tops[i]
    if t.count > 0 and t.count * tops[best].k == tops[best].count * t.k then
      if not win then
        win = i
      else
        local c = compare_accuracy(acc[i], acc[win])
        if c > 0 then win, shared = i, false
        elseif c == 0 then shared = true end
      end
    end
  end
  return win, shared and "tie_order" or "tie_accuracy"
end

-- per_model: the tops again, when the decision carries them (vote.mux).
local function select_from(fname, tops, accuracy, per_model)
  if accuracy ~= nil and type(accuracy) ~= "table" then
    fail(fname, "%s must be a table (got %s)", fname == "select" and "accuracy" or "opts.accuracy",
      type(accuracy))
  end
  local acc = {}
  for i, t in ipairs(tops) do acc[i] = accuracy_of(fname, accuracy, i, t.model) end
  local best, tied = most_confident(tops)
  if not best then return {confidence = 0, reason = "no_answer", per_model = per_model} end
  local win, reason = best, "confidence"
  if tied > 1 then win, reason = break_tie(tops, best, acc) end
  local t = tops[win]
  return {answer = t.answer, model = t.model, index = win, confidence = t.count / t.k,
    reason = reason, per_model = per_model}
end

--- Step 3: the answer of the model with the highest confidence; ties go to
-- the higher validation accuracy (accuracy = {[i or model] = acc}; a known
-- accuracy beats an unknown one), then to the earlier model. A model with
-- no answer never wins. tops as vote.top returns them. Returns a decision
-- {answer =, model =, index =, confidence =, reason = "confidence" |
-- "tie_accuracy" | "tie_order" | "no_answer"} (no answer, model or index
-- when no model has an answer).
function M.select(tops, accuracy)
  if type(tops) ~= "table" then fail("select", "tops must be an array (got %s)", type(tops)) end
  return select_from("select", tops, accuracy)
end

local MUX_OPTIONS = names {"accuracy", "equiv"}

--- Algorithm 1 over per_model = {{model =, answers = {...} [, n =]}, ...}:
-- top() of every model, then select(). opts: equiv, accuracy. The decision
-- also carries per_model = the tops.
function M.mux(per_model, opts)
  if type(per_model) ~= "table" then
    fail("mux", "per_model must be an array of {model=, answers=} (got %s)", type(per_model))
  end
  opts = options("mux", opts, MUX_OPTIONS)
  local tops, copts = {}, {equiv = opts.equiv}
  for i = 1, #per_model do tops[i] = top_of("mux", per_model[i], i, copts) end
  return select_from("mux", tops, opts.accuracy, tops)
end

---------------------------------------------------------------------------
-- Majority votes

local LIST_OPTIONS = names {"equiv", "n"}

--- Plain majority over answers (Agent Forest: every sample of every model,
-- flattened); ties go to the first appearance. opts: equiv, n (the length,
-- when answers has nil holes). Returns answer, count, index of its first
-- appearance; or nil, 0 when there is no answer.
function M.majority(answers, opts)
  opts = options("majority", opts, LIST_OPTIONS)
  local n = check_answers("majority", answers, opts.n, "answers")
  local top = count(answers, {equiv = opts.equiv, n = n})[1]
  if not top then return nil, 0 end
  return top.answer, top.count, top.first
end

-- The equality of groups as count applies it: equal(representative,
-- answer). count returns no membership, which a weighted vote needs, so
-- the weighted votes group here, over the same C equivalence.
local function equality(equiv)
  if equiv == "math" then return core.math.equiv end
  if type(equiv) == "function" then return equiv end
  return rawequal
end

-- Groups of answers[1..n] in first-appearance order, each {first =, count =,
-- weight = the sum of its members' weights}; an answer joins the first
-- group whose representative it equals.
local function weigh(answers, weights, n, equal)
  local groups = {}
  for i = 1, n do
    local a = answers[i]
    if a then
      local g
      for _, h in ipairs(groups) do
        if equal(answers[h.first], a) then g = h break end
      end
      if not g then
        g = {first = i, count = 0, weight = 0}
        groups[#groups + 1] = g
      end
      g.count, g.weight = g.count + 1, g.weight + weights[i]
    end
  end
  return groups
end

-- The heaviest group; sums within a relative 1e-9 count as tied (floating
-- sums of fractions such as 1/3 + 1/3 + 1/3 against 1 need it), and a tie
-- goes to the group seen first.
local function heaviest(groups)
  local best
  for _, g in ipairs(groups) do
    if not best then best = g
    else
      local tol = 1e-9 * math.max(math.abs(g.weight), math.abs(best.weight))
      if g.weight - best.weight > tol then best = g end
    end
  end
  return best
end

local function check_weights(weights, answers, n)
  if type(weights) ~= "table" then fail("weighted", "weights must be a table (got %s)", type(weights)) end
  local w = {}
  for i = 1, n do
    local x = weights[i]
    if type(x) ~= "number" then
      if answers[i] then fail("weighted", "weights[%d] must be a number (got %s)", i, type(x)) end
      x = 0
    elseif x ~= x or x == math.huge or x == -math.huge then
      fail("weighted", "weights[%d] must be finite", i)
    end
    w[i] = x
  end
  return w
end

--- Weighted majority: answers[i] brings weights[i]; the group with the
-- largest sum wins (ties as heaviest() says). opts: equiv, n. Returns
-- answer, weight sum, index of its first appearance; or nil, 0.
function M.weighted(answers, weights, opts)
  opts = options("weighted", opts, LIST_OPTIONS)
  local n = check_answers("weighted", answers, opts.n, "answers")
  local w = check_weights(weights, answers, n)
  local best = heaviest(weigh(answers, w, n, equality(opts.equiv)))
  if not best then return nil, 0 end
  return answers[best.first], best.weight, best.first
end

local MODELS_OPTIONS = names {"equiv"}

--- Confidence-weighted majority over models: each answer of a model weighs
-- that model's confidence (vote.top), then weighted() over all answers in
-- model order. opts: equiv. Returns answer, weight sum, model; or nil, 0.
function M.weighted_models(per_model, opts)
  if type(per_model) ~= "table" then
    fail("weighted_models", "per_model must be an array of {model=, answers=} (got %s)", type(per_model))
  end
  opts = options("weighted_models", opts, MODELS_OPTIONS)
  local flat, weights, owner = {}, {}, {}
  local n, copts = 0, {equiv = opts.equiv}
  for i = 1, #per_model do
    local t = top_of("weighted_models", per_model[i], i, copts)
    local answers = per_model[i].answers
    for j = 1, t.k do
      n = n + 1
      flat[n], weights[n], owner[n] = answers[j], t.confidence, t.model
    end
  end
  local best = heaviest(weigh(flat, weights, n, equality(opts.equiv)))
  if not best then return nil, 0 end
  return flat[best.first], best.weight, owner[best.first]
end

return M
