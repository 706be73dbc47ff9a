-- Answer-selection policies. A policy is solve(problem, ctx) -> decision, or
-- nil, errmsg when a request failed for good. ctx (made by runner.context):
--   ctx.sample_all(k [, models]) -> per_model {{model =, answers = {...}}...}
--                                  (k samples of every model, all at once)
--   ctx.task, ctx.models, ctx.accuracy ({[model] = validation accuracy} or nil),
--   ctx.opts (samples, early_exit, ...)
-- A decision is {answer =, model =, confidence =, reason =}; answers that
-- could not be extracted are `false` in `answers` and never win a vote.
local M = {}

local mux = require "slmmux"

local function choose(per_model, ctx)
  return mux.vote.mux(per_model, {accuracy = ctx.accuracy, equiv = ctx.task.equiv})
end

-- One sample of each model, all equal (and present): nothing for more samples to change.
local function unanimous(per_model, ctx)
  local answers = {}
  for i, m in ipairs(per_model) do answers[i] = m.answers[1] end
  local groups = mux.vote.count(answers, {equiv = ctx.task.equiv})
  return #groups == 1 and groups[1].count == #per_model
end

--- The optional early exit of SLM-MUX (opts.early_exit, off by default):
-- one sample from each model first; if all agree, that is the decision.
-- Returns a decision, or nil when there is no early exit (or nil, err).
-- Asking for k samples afterwards pays only for the k-1 missing ones, since
-- the host's store already holds sample 0.
function M.early_exit(ctx)
  if not ctx.opts.early_exit or ctx.opts.samples <= 1 then return nil end
  local first, err = ctx.sample_all(1)
  if not first then return nil, err end
  if not unanimous(first, ctx) then return nil end
  local d = choose(first, ctx)
  d.reason, d.early_exit = "early exit: all models agree on their first sample", true
  return d
end

--- SLM-MUX, Algorithm 1 of Wang et al. (2025): each model samples k answers
-- at temperature > 0; a model's confidence is the frequency of its most common
-- answer; the most confident model's answer wins, ties going to the higher
-- validation accuracy, then to the earlier model. (recipes/math.lua spells
-- out the same steps.)
function M.slm_mux(_, ctx)
  local done, err = M.early_exit(ctx)
  if done or err then return done, err end
  local per_model, err2 = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err2 end
  return choose(per_model, ctx)
end

--- The model with the highest validation accuracy, else the first one.
function M.best_model(models, accuracy)
  local best = models[1]
  for _, m in ipairs(models) do
    if accuracy and (accuracy[m] or -1) > (accuracy[best] or -1) then best = m end
  end
  return best
end

--- One model (the best by validation accuracy, else the first): its
-- self-consistency answer over k samples (with k = 1, plain single-sample).
function M.single(_, ctx)
  local model = M.best_model(ctx.models, ctx.accuracy)
  local per_model, err = ctx.sample_all(ctx.opts.samples, {model})
  if not per_model then return nil, err end
  local answers = per_model[1].answers
  local answer, count = mux.vote.majority(answers, {equiv = ctx.task.equiv})
  return {answer = answer, model = model, confidence = (count or 0) / #answers,
    reason = #answers > 1 and "self-consistency" or "single sample"}
end

--- Agent Forest (Li et al. 2024): a majority vote over every sample of every
-- model; ties go to the answer seen first (model order, then sample order).
function M.majority(_, ctx)
  local per_model, err = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err end
  local answers, owner = {}, {}
  for _, m in ipairs(per_model) do
    for _, a in ipairs(m.answers) do
      answers[#answers + 1], owner[#answers + 1] = a, m.model
    end
  end
  local top = mux.vote.count(answers, {equiv = ctx.task.equiv})[1]
  if not top then return {reason = "no answer extracted", confidence = 0} end
  return {answer = top.answer, model = owner[top.first], confidence = top.count / #answers,
    reason = "majority of all samples"}
end

--- The names `-s policy=NAME` accepts.
function M.names()
  return {"majority", "single", "slm_mux"}
end

return M
