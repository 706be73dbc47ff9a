-- Agent Forest (Li et al. 2024, "More Agents Is All You Need"): a majority
-- vote over every sample of every model; ties go to the answer seen first
-- (model order, then sample order).
local vote = require "slmmux.vote"

local M = {name = "majority", label = "Agent Forest (majority)",
  description = "Agent Forest: majority vote over every sample of every model"}

function M.solve(_, ctx)
  local per_model, err = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err end
  local answers, owner = {}, {}
  for _, m in ipairs(per_model) do
    for _, a in ipairs(m.answers) do
      answers[#answers + 1], owner[#answers + 1] = a, m.model
    end
  end
  local answer, count, first = vote.majority(answers, {equiv = ctx.task.equiv})
  if answer == nil then return {reason = "no answer extracted", confidence = 0} end
  return {answer = answer, model = owner[first], confidence = count / #answers,
    reason = "majority of all samples"}
end

return M
