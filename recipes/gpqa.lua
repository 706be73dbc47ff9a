-- SLM-MUX on GPQA Diamond (198 questions, options shuffled), with the task's
-- settings (lua/slmmux/tasks/gpqa.lua): two models from the SLM-MUX paper's
-- pool, k = 3 samples at T = 0.3, the reference's prompts. GPQA Diamond has
-- no split to spare, so the tie-break accuracies are cross-fitted: each
-- question's come from the other folds' samples (no extra requests). The
-- policy is the library's slm_mux (recipes/math.lua spells it out).
--
--   ./slmmux run recipes/gpqa.lua
--   ./slmmux run recipes/gpqa.lua -s models=google/gemma-2-27b-it,Qwen/Qwen2.5-7B-Instruct-Turbo
--   ./slmmux run recipes/gpqa.lua -s accuracy=google/gemma-2-27b-it=0.38,Qwen/Qwen2.5-7B-Instruct-Turbo=0.33
local mux = require "slmmux"

return mux.run {
  task = "gpqa",
  policy = "slm_mux",
}
