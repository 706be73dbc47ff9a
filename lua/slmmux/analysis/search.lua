-- The model-selection search (stage 2 of the SLM-MUX paper), on stored
-- samples of a pool of models on a validation set: every subset of sizes
-- min_size..max_size is scored by union accuracy - lambda * contradiction
-- (mux.vote.search, src/answers/search.c), and per size the best subsets
-- are shown with both terms, their SLM-MUX accuracy computed offline on
-- the same samples (mux.vote.panel), and the best single model.
--
-- The definitions, with the defaults of the cleaned SLM-MUX reference
-- release (its model selector):
--   robust_level = 2   a model solves a question when at least this many of
--                      its k samples are right
--   contradiction      a question the subset solves where a member is
--                      confidently wrong: k > 1 samples, all one wrong answer
--                      (one class, none right); a one-model subset has none
--   normalize = "solved"  the contradiction rate is per question the subset
--                      solves (the reference's); "all": per question
--   lambda = 0.5       the weight of the rate
--   ranking            score, then union accuracy, then the first subset in
--                      combinations order
-- Where slmmux differs, on purpose: samples are "the same answer" by the
-- task's equivalence (MATH: math_equiv), not string identity, and a
-- sample without an answer is never part of a unanimous wrong answer (the
-- reference counts k empty extractions as confidently wrong; an SLM-MUX
-- vote never picks a model that gave none). Every size reports its best
-- subsets even when they score below 0, flagged, where the reference's
-- search (whose best starts at score 0) reports no subset.
--
-- Offline SLM-MUX: Algorithm 1 over all k stored samples of each member,
-- ties broken by each model's share of right samples on the same questions
-- (on the training folds, for held-out figures).
--
-- Cross-validated lambda: the questions are dealt into `folds` folds by
-- position (question i in fold (i - 1) % folds + 1); for each lambda of
-- `lambdas`, each fold's best subsets of each size are searched on the
-- other folds and their SLM-MUX accuracy measured on the fold; the lambda
-- with the best held-out accuracy averaged over the sizes wins (ties: the
-- smaller lambda).
local errors = require "slmmux.errors"
local mux = require "slmmux"
local panel = require "slmmux.analysis.panel"

local M = {}

M.DEFAULTS = {lambda = 0.5, robust_level = 2, min_size = 2, max_size = 5, top = 3, normalize = "solved",
  folds = 5, lambdas = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}}

--- solved[m] and wrong[m] (booleans over the problems of `list`, a list
-- of problem indices) as the header defines them.
function M.bits(P, list, robust_level)
  local solved, wrong = {}, {}
  for m = 1, #P.models do
    local sm, wm = {}, {}
    for j, p in ipairs(list) do
      sm[j] = P.sample_right[m][p] >= robust_level
      local row, same = P.classes[m][p], P.samples > 1
      for s = 2, P.samples do same = same and row[s] == row[1] end
      wm[j] = same and row[1] ~= 0 and P.sample_right[m][p] == 0
    end
    solved[m], wrong[m] = sm, wm
  end
  return solved, wrong
end

local function all_problems(P)
  local list = {}
  for p = 1, #P.ids do list[p] = p end
  return list
end

--- Per problem, 1 when offline SLM-MUX over the models (indices) decides
-- it right, with tie-break accuracies acc.
function M.mux_per_problem(P, models, acc)
  local _, per_problem = panel.native(P):replay{rule = "mux", models = models, k = P.samples, accuracy = acc}
  return per_problem
end

local function share(per_problem, list)
  local right = 0
  for _, p in ipairs(list) do right = right + per_problem[p] end
  return #list > 0 and right / #list or 0
end

local function names_of(P, idx)
  local names = {}
  for i, m in ipairs(idx) do names[i] = P.models[m] end
  return names
end

-- The search over bits = {solved, wrong}: {[size] = {ranked = ...}}.
local function search_on(P, o, bits, lambda)
  return mux.vote.search{correct = bits[1], wrong = bits[2], lambda = lambda, min_size = o.min_size,
    max_size = math.min(o.max_size, #P.models), top = o.top, normalize = o.normalize}
end

--- The best single model: by share of right samples; its pass@1 and SC@k.
function M.single(P, acc)
  local best = 1
  for m = 2, #P.models do if acc[m] > acc[best] then best = m end end
  local _, sc = panel.native(P):replay{rule = "sc", models = {best}, k = P.samples}
  return {model = P.models[best], index = best, pass1 = acc[best], sc = share(sc, all_problems(P))}
end

local function check_options(o, P)
  if #P.models > 32 then errors.usage("search: at most 32 models in the pool (got " .. #P.models .. ")") end
  if #P.models < 2 then errors.usage("search: the pool needs at least 2 models (-s models=a,b,...)") end
  o.min_size = math.min(o.min_size, #P.models)
  if o.max_size < o.min_size then
    errors.usage(string.format("search: max_size=%d is below min_size=%d", o.max_size, o.min_size))
  end
  if o.robust_level > P.samples then
    io.stderr:write(string.format("slmmux: search: robust_level=%d exceeds the %d samples per model: no model "
      .. "solves any question (ask more samples, or lower robust_level)\n", o.robust_level, P.samples))
  end
end

local function cross_validate(P, o)
  local n = #P.ids
  local folds = math.min(o.folds, n)
  if folds < 2 then return nil end
  local train, test, bits, acc = {}, {}, {}, {}
  for f = 1, folds do
    train[f], test[f] = {}, {}
    local keep = {}
    for p = 1, n do
      if (p - 1) % folds + 1 == f then test[f][#test[f] + 1] = p
      else train[f][#train[f] + 1] = p; keep[p] = true end
    end
    bits[f] = {M.bits(P, train[f], o.robust_level)}
    acc[f] = panel.sample_accuracy(P, keep)
  end
  local memo, per_lambda, best = {}, {}, nil
  local max_size = math.min(o.max_size, #P.models)
  for _, lambda in ipairs(o.lambdas) do
    local right, chosen = {}, {}
    for f = 1, folds do
      local res = search_on(P, o, bits[f], lambda)
      for size = o.min_size, max_size do
        local idx = res[size].models
        local key = f .. ":" .. table.concat(idx, ",")
        memo[key] = memo[key] or M.mux_per_problem(P, idx, acc[f])
        local r = 0
        for _, p in ipairs(test[f]) do r = r + memo[key][p] end
        right[size] = (right[size] or 0) + r
        chosen[size] = chosen[size] or {}
        chosen[size][f] = names_of(P, idx)
      end
    end
    local row, sum, sizes = {lambda = lambda, heldout = {}, chosen = chosen}, 0, 0
    for size = o.min_size, max_size do
      row.heldout[size] = right[size] / n
      sum, sizes = sum + row.heldout[size], sizes + 1
    end
    row.mean = sizes > 0 and sum / sizes or 0
    per_lambda[#per_lambda + 1] = row
    if not best or row.mean > best.mean or (row.mean == best.mean and lambda < best.lambda) then best = row end
  end
  return {folds = folds, lambdas = per_lambda, lambda = best and best.lambda, heldout = best and best.heldout,
    chosen = best and best.chosen}
end

--- The search on panel P with options o (M.DEFAULTS fill the gaps).
-- Returns {sizes = {[size] = {ranked = {{models =, idx =, score =, union =,
-- contradiction =, solved =, contradictions =, mux =, negative =}}}},
-- single =, order =, cv =, options =, questions =}.
function M.run(P, o)
  local opts = {}
  for k, v in pairs(M.DEFAULTS) do opts[k] = v end
  for k, v in pairs(o or {}) do opts[k] = v end
  check_options(opts, P)
  local list = all_problems(P)
  local acc = panel.sample_accuracy(P)
  local res = search_on(P, opts, {M.bits(P, list, opts.robust_level)}, opts.lambda)
  local out = {sizes = {}, options = opts, questions = #list, samples = P.samples, models = P.models,
    accuracy = acc, excluded = panel.excluded_note(P)}
  local max_size = math.min(opts.max_size, #P.models)
  for size = opts.min_size, max_size do
    local ranked = {}
    for i, r in ipairs(res[size].ranked) do
      ranked[i] = {models = names_of(P, r.models), idx = r.models, score = r.score, union = r.union,
        contradiction = r.contradiction, solved = r.solved, contradictions = r.contradictions,
        mux = share(M.mux_per_problem(P, r.models, acc), list), negative = r.score < 0 or nil}
    end
    out.sizes[size] = {ranked = ranked}
  end
  out.single = M.single(P, acc)
  out.order = M.order(out, P, acc)
  out.cv = cross_validate(P, opts)
  return out
end

--- The search order: models as the best subsets bring them in, size by
-- size (within a subset the more accurate first), then the rest by accuracy.
function M.order(result, P, acc)
  local seen, order = {}, {}
  local function add(m) if not seen[m] then seen[m] = true order[#order + 1] = m end end
  local sizes = {}
  for size in pairs(result.sizes) do sizes[#sizes + 1] = size end
  table.sort(sizes)
  for _, size in ipairs(sizes) do
    local idx = {table.unpack(result.sizes[size].ranked[1].idx)}
    table.sort(idx, function(a, b) return acc[a] > acc[b] or (acc[a] == acc[b] and a < b) end)
    for _, m in ipairs(idx) do add(m) end
  end
  local rest = {}
  for m = 1, #P.models do if not seen[m] then rest[#rest + 1] = m end end
  table.sort(rest, function(a, b) return acc[a] > acc[b] or (acc[a] == acc[b] and a < b) end)
  for _, m in ipairs(rest) do add(m) end
  return names_of(P, order)
end

return M
