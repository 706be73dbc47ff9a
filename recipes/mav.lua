-- Multi-Agent Verification, BoN-MAV (Lifshitz, McIlraith and Du, 2025,
-- "Multi-Agent Verification: Scaling Test-Time Compute with Multiple
-- Verifiers", arXiv:2502.20379) on MATH-500: the first model samples n
-- candidates; every model verifies every candidate for each aspect; the
-- most approved candidate wins. The paper's defaults: n = 16 at
-- temperature 0.7, verifiers at temperature 0, and its MATH aspects
-- (units_steps, general_summarize, general_edge, general_mistakes,
-- general_domain). That is 16 x 2 models x 5 aspects x 2 calls = 320
-- verifier calls per problem: -s samples=4 for a quicker look.
--
--   ./slmmux run recipes/mav.lua --limit 20
--   ./slmmux run recipes/mav.lua -s samples=4 -s aspects=general_direct,math_steps
--
-- The algorithm is lua/slmmux/policies/mav.lua, the verifier prompts
-- lua/slmmux/policies/mav_prompts.lua (the paper's wording); -s policy=mav
-- in recipes/baselines.lua runs it too.
local mux = require "slmmux"

return mux.run {
  task = "math",
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo"},
  policy = "mav",
  samples = 16,                -- n candidates, from the first model
  temperature = 0.7,           -- the generator's
  aspects = {"units_steps", "general_summarize", "general_edge", "general_mistakes", "general_domain"},
  max_tokens = 2048,
  validation = false,
}
