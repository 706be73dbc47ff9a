-- SLM-MUX (Wang et al., 2025, Algorithm 1) with other confidence signals:
-- every model samples k answers, its answer is its most common one, and
-- the most confident model's answer wins (ties: validation accuracy); what
-- changes is the confidence of a model's answer:
--
--   ./slmmux run recipes/confidence.lua -s confidence=verbalized   # the confidence each sample states
--   ./slmmux run recipes/confidence.lua -s confidence=logprob      # the mean token log-prob of the answer
--   ./slmmux run recipes/confidence.lua -s confidence=consistency  # Algorithm 1 itself
--
-- The paper's settings: k = 3 at temperature 0.3. logprob needs a server
-- that returns logprobs (vLLM, OpenAI; Together for most models). The same
-- over frontier models: recipes/frontier.lua. The algorithm is
-- lua/slmmux/policies/confidence.lua (policies mux_verbalized, mux_logprob).
local mux = require "slmmux"

return mux.run {
  task = "math",
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo"},
  policy = "mux_confidence",
  confidence = "verbalized",
  samples = 3,
  temperature = 0.3,
  max_tokens = 2048,
}
