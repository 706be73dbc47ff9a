-- SLM-MUX on GPQA Diamond (198 questions, options shuffled), with the
-- paper's settings: k = 3 samples per model at temperature 0.3. The policy
-- is the library's slm_mux (recipes/math.lua spells the same algorithm out).
--
--   ./slmmux run recipes/gpqa.lua
--   ./slmmux run recipes/gpqa.lua -s models=google/gemma-2-27b-it,Qwen/Qwen2.5-7B-Instruct-Turbo
--
-- The two models are from the SLM-MUX paper's pool of small models (Together
-- ids); mux.vote.search looks for the most complementary subset.
local mux = require "slmmux"

return mux.run {
  task = "gpqa",
  data = "data/gpqa_diamond.json.gz",
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "google/gemma-2-27b-it"},
  policy = "slm_mux",
  samples = 3,
  temperature = 0.3,
  max_tokens = 2048,
  -- GPQA Diamond has no spare split: tie-breaks by model order (best first),
  -- or give measured accuracies: accuracy = {["google/gemma-2-27b-it"] = 0.38, ...}
}
