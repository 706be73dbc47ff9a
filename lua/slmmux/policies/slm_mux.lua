-- SLM-MUX, Algorithm 1 of Wang et al. (2025): each model samples k answers
-- at temperature > 0; a model's confidence is the frequency of its most
-- common answer; the most confident model's answer wins, ties going to the
-- higher validation accuracy, then to the earlier model (slmmux.vote).
-- recipes/math.lua spells out the same steps.
local vote = require "slmmux.vote"

local M = {name = "slm_mux", label = "SLM-MUX",
  description = "SLM-MUX: the most self-consistent model's answer (ties: validation accuracy)"}

local function choose(per_model, ctx)
  return vote.mux(per_model, {accuracy = ctx.accuracy, equiv = ctx.task.equiv})
end

-- One sample of each model, all equal (and present): nothing for more samples to change.
local function unanimous(per_model, ctx)
  local answers = {}
  for i, m in ipairs(per_model) do answers[i] = m.answers[1] end
  local _, count = vote.majority(answers, {equiv = ctx.task.equiv, n = #per_model})
  return count > 0 and count == #per_model
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

--- solve(problem, ctx) -> decision, or nil, err when a request failed for good.
function M.solve(_, ctx)
  local done, err = M.early_exit(ctx)
  if done or err then return done, err end
  local per_model, err2 = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err2 end
  return choose(per_model, ctx)
end

return M
