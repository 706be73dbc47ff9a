-- SLM-MUX over frontier LLMs, the paper's frontier-LLM variants: Algorithm
-- 1 of Wang et al. (2025) with its self-consistency confidence (k = 3 at
-- temperature 0.3, as for the small models), or with the other confidence
-- signals of recipes/confidence.lua:
--
--   ./slmmux run recipes/frontier.lua --limit 100
--   ./slmmux run recipes/frontier.lua -s confidence=verbalized
--   ./slmmux run recipes/frontier.lua -s confidence=logprob
--
-- The models are Together ids of frontier-class open models; with no
-- endpoint configured the simulator stands in (and says so).
local mux = require "slmmux"

return mux.run {
  task = "math",
  models = {"deepseek-ai/DeepSeek-V3", "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "Qwen/Qwen2.5-72B-Instruct-Turbo"},
  policy = "mux_confidence",
  confidence = "consistency",
  samples = 3,
  temperature = 0.3,
  max_tokens = 2048,
}
