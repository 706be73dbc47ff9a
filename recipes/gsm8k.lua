-- SLM-MUX on GSM8K (500 test problems), with the paper's settings: k = 3
-- samples per model at temperature 0.3. The policy is the library's
-- slm_mux (recipes/math.lua spells the same algorithm out).
--
--   ./slmmux run recipes/gsm8k.lua --limit 100
--   ./slmmux run recipes/gsm8k.lua -s data=data/gsm8k_test.jsonl -s early_exit=true
--
-- The two models are from the SLM-MUX paper's pool of small models (Together
-- ids); mux.vote.search looks for the most complementary subset.
local mux = require "slmmux"

return mux.run {
  task = "gsm8k",
  data = "data/gsm8k_500.json",
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo"},
  policy = "slm_mux",
  samples = 3,
  temperature = 0.3,
  max_tokens = 1024,
  -- Validation accuracy (for ties) from training problems, not test ones.
  validation = {data = "data/gsm8k_train.jsonl", limit = 50},
}
