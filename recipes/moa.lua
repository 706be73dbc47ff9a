-- Mixture-of-Agents (Wang et al., 2024, "Mixture-of-Agents Enhances Large
-- Language Model Capabilities", arXiv:2406.04692) on MATH-500: layers of
-- proposers, each layer shown the previous layer's responses with the
-- paper's Aggregate-and-Synthesize prompt, and an aggregator in the last.
-- The paper's defaults: 3 layers (MoA-Lite: 2, -s layers=2), every
-- proposer in every layer, temperature 0.7, 2048 tokens.
--
--   ./slmmux run recipes/moa.lua --limit 50
--   ./slmmux run recipes/moa.lua -s layers=2                        # MoA-Lite
--   ./slmmux run recipes/moa.lua -s aggregator=Qwen/Qwen2.5-72B-Instruct-Turbo
--
-- The algorithm is lua/slmmux/policies/moa.lua (the prompt's source is in
-- its header); -s policy=moa in recipes/baselines.lua runs it too.
local mux = require "slmmux"

return mux.run {
  task = "math",
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo",
    "meta-llama/Llama-3.1-8B-Instruct-Turbo"},   -- the proposers
  policy = "moa",
  layers = 3,                  -- the aggregator: the first model (-s aggregator=MODEL)
  samples = 1,
  temperature = 0.7,
  max_tokens = 2048,
  validation = false,
}
