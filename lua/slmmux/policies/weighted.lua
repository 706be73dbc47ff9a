-- A confidence-weighted vote: every sample of every model votes, weighing
-- its model's SLM-MUX confidence (the share of the model's k samples in its
-- top group). Between Agent Forest (every sample weighs 1) and SLM-MUX (only
-- the most confident model counts): four scattered samples lose to three
-- from a model that is sure.
local vote = require "slmmux.vote"

local M = {name = "weighted", label = "confidence-weighted vote",
  description = "every sample votes with its model's confidence (count of its top answer / k)"}

function M.solve(_, ctx)
  local per_model, err = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err end
  local answer, weight, model = vote.weighted_models(per_model, {equiv = ctx.task.equiv})
  if answer == nil then return {reason = "no answer extracted", confidence = 0} end
  local total = 0   -- every answer's weight, summed in the vote's order
  for _, m in ipairs(per_model) do
    local confidence = vote.top(m, ctx.task.equiv).confidence
    for _, a in ipairs(m.answers) do
      if a then total = total + confidence end
    end
  end
  return {answer = answer, model = model, confidence = weight / total,
    reason = "confidence-weighted vote of all samples"}
end

return M
