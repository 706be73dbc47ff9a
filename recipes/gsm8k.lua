-- SLM-MUX on GSM8K (the 500-problem test subset; -s data=data/gsm8k_test.jsonl
-- for all 1319), with the task's settings (lua/slmmux/tasks/gsm8k.lua): two
-- models from the SLM-MUX paper's pool, k = 3 samples at T = 0.3, the
-- reference's prompts, tie-break accuracies from the first 500 problems of
-- the training split. The policy is the library's slm_mux
-- (recipes/math.lua spells the same algorithm out).
--
--   ./slmmux run recipes/gsm8k.lua
--   ./slmmux run recipes/gsm8k.lua --limit 100 -s early_exit=true
--   ./slmmux run recipes/gsm8k.lua -s models=a,b,c
local mux = require "slmmux"

return mux.run {
  task = "gsm8k",
  policy = "slm_mux",
}
