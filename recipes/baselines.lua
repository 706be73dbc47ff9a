-- The baselines SLM-MUX is compared with, on the same problems, prompts and
-- samples (the sample store makes a baseline after an SLM-MUX run free):
--
--   ./slmmux run recipes/baselines.lua                          Agent Forest: majority
--                                                               vote over all samples
--   ./slmmux run recipes/baselines.lua -s policy=single -s samples=1
--                                  the single best model (by validation accuracy)
--   ./slmmux run recipes/baselines.lua -s policy=single         its self-consistency (k = 3)
--   ./slmmux run recipes/baselines.lua -s policy=weighted       every sample votes with
--                                                               its model's confidence
--   ./slmmux run recipes/baselines.lua -s policy=slm_mux        SLM-MUX itself
--
-- -s policy=NAME takes any registered policy (lua/slmmux/policies/).
--
-- Other benchmarks: -s task=gsm8k or -s task=gpqa (each has its default data).
local mux = require "slmmux"

return mux.run {
  task = "math",
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo"},
  policy = "majority",
  samples = 3,
  temperature = 0.3,
  max_tokens = 2048,
  validation = {limit = 50},   -- the same held-out records as recipes/math.lua
}
