-- One model alone: the best by validation accuracy (else the first), its
-- self-consistency answer over k samples (with k = 1, plain single-sample).
-- The baseline every orchestration has to beat.
local vote = require "slmmux.vote"

local M = {name = "single",
  description = "the single best model (validation accuracy), self-consistency over k samples"}

--- The model with the highest validation accuracy, else the first one.
function M.best_model(models, accuracy)
  local best = models[1]
  for _, m in ipairs(models) do
    if accuracy and (accuracy[m] or -1) > (accuracy[best] or -1) then best = m end
  end
  return best
end

--- "model (SC@k)": which model answered, and with how many samples.
function M.label(cfg, accuracy)
  return M.best_model(cfg.models, accuracy)
    .. (cfg.samples > 1 and string.format(" (SC@%d)", cfg.samples) or "")
end

function M.solve(_, ctx)
  local model = M.best_model(ctx.models, ctx.accuracy)
  local per_model, err = ctx.sample_all(ctx.opts.samples, {model})
  if not per_model then return nil, err end
  local answers = per_model[1].answers
  local answer, count = vote.majority(answers, {equiv = ctx.task.equiv})
  return {answer = answer, model = model, confidence = count / #answers,
    reason = #answers > 1 and "self-consistency" or "single sample"}
end

return M
