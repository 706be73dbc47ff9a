-- The baselines SLM-MUX is compared with, on the same problems, prompts and
-- samples: every setting comes from the task (lua/slmmux/tasks/), as for
-- the task's SLM-MUX recipe, so after that run a baseline requests nothing
-- (the sample store holds every sample it needs):
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
-- Other benchmarks: -s task=gsm8k or -s task=gpqa (each with its settings).
local mux = require "slmmux"

return mux.run {
  task = "math",
  policy = "majority",
}
