-- Validation: before the run, each model answers the validation problems
-- with S samples each; its accuracy there (correct samples / answered
-- samples) breaks SLM-MUX confidence ties and picks the model of policy
-- `single`. The problems are another file's (MATH's training split), held
-- out of the data, or, for crossfit, the evaluated problems themselves: they
-- are dealt into K folds by position (problem i in fold (i - 1) % K + 1) and
-- a problem's accuracies are measured on the other folds only, so no
-- problem's own answers break its own ties. The samples are requested as the
-- evaluation requests them (same prompt, temperature, max_tokens; sample
-- indices 0..S-1), so they are the same store identities: crossfit's
-- validation samples are the evaluation's first S samples.
local report = require "slmmux.report"

local mux = require "slmmux"

local M = {}

-- {right, n, errors} per model per problem index, and the tokens spent.
local function measure(st, problems, samples, new_context)
  local jobs, per, tokens = {}, {}, 0
  for i, p in ipairs(problems) do
    per[i] = {}
    for _, m in ipairs(st.cfg.models) do
      per[i][m] = {right = 0, n = 0, errors = 0}
      jobs[#jobs + 1] = {i, p, m}
    end
  end
  local progress = st.progress
  progress.phase, progress.done, progress.total = "validation", 0, #jobs
  mux.map(jobs, function(job)
    local i, problem, m = job[1], job[2], job[3]
    local ctx = new_context(problem, {m})
    local rec = ctx.sample(m, samples)
    local usage = ctx.records[m].usage
    tokens = tokens + usage.prompt_tokens + usage.completion_tokens
    local cell = per[i][m]
    if not rec then cell.errors = 1
    else
      for _, c in ipairs(rec.calls) do
        cell.n = cell.n + 1
        if c.answer ~= nil and st.task.score(c.answer, problem) then cell.right = cell.right + 1 end
      end
    end
    progress.done = progress.done + 1
  end, {concurrency = st.cfg.concurrency})
  return per, tokens
end

-- Sums of right, n and errors per model over the problem indices `keep` accepts.
local function totals(models, per, keep)
  local sum = {}
  for _, m in ipairs(models) do sum[m] = {right = 0, n = 0, errors = 0} end
  for i, cells in ipairs(per) do
    if keep(i) then
      for _, m in ipairs(models) do
        local s, c = sum[m], cells[m]
        s.right, s.n, s.errors = s.right + c.right, s.n + c.n, s.errors + c.errors
      end
    end
  end
  return sum
end

-- {[model] = accuracy} (models without an answered sample left out).
local function accuracy_of(models, sum)
  local acc = {}
  for _, m in ipairs(models) do
    if sum[m].n > 0 then acc[m] = sum[m].right / sum[m].n end
  end
  return acc
end

local function model_rows(models, sum)
  local rows = {}
  for i, m in ipairs(models) do
    rows[i] = {model = m, accuracy = report.accuracy(sum[m].right, sum[m].n),
      errors = sum[m].errors}
  end
  return rows
end

--- Measures the accuracies. plan = {kind = "data"|"holdout"|"crossfit",
-- problems, samples [, folds]}; new_context(problem, models) makes the ctx
-- of one request. Returns accuracy {[model] = acc} over all of them,
-- accuracy_for(problem) -> the accuracies that problem's ties use, and the
-- detail for summary.json (plan.source describes where they came from).
function M.run(st, plan, new_context)
  local models = st.cfg.models
  local per, tokens = measure(st, plan.problems, plan.samples, new_context)
  local all = totals(models, per, function() return true end)
  local accuracy = accuracy_of(models, all)
  local detail = {kind = plan.kind, source = plan.source, problems = #plan.problems,
    samples_per_problem = plan.samples, models = model_rows(models, all), tokens = tokens}
  if plan.kind ~= "crossfit" then
    return accuracy, function() return accuracy end, detail
  end
  local k, by_fold, fold_of = plan.folds, {}, {}
  detail.folds, detail.tokens = {}, nil
  detail.tokens_shared = tokens   -- the evaluation's own samples, not spent twice
  for f = 1, k do
    local sum = totals(models, per, function(i) return (i - 1) % k + 1 ~= f end)
    by_fold[f] = accuracy_of(models, sum)
    local size = 0
    for i = f, #plan.problems, k do size = size + 1 end
    detail.folds[f] = {fold = f, problems = size, measured_on = #plan.problems - size,
      accuracy = by_fold[f]}
  end
  for i, p in ipairs(plan.problems) do fold_of[p] = (i - 1) % k + 1 end
  return accuracy, function(p) return by_fold[fold_of[p]] or accuracy end, detail
end

return M
