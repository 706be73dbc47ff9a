-- SLM-MUX on MATH-500: Algorithm 1 of Wang et al. (2025), "SLM-MUX:
-- Orchestrating Small Language Models for Reasoning" (arXiv:2510.05077).
--
--   ./slmmux run recipes/math.lua                  all 500 problems
--   ./slmmux run recipes/math.lua --limit 100
--   ./slmmux run recipes/math.lua -s models=Qwen/Qwen2.5-7B-Instruct,google/gemma-2-27b-it -s samples=5
--
-- Models are Together ids (TOGETHER_API_KEY); any OpenAI-compatible server
-- works through slmmux.config.lua. With no endpoint configured, the built-in
-- simulator answers instead (and says so). Baselines: recipes/baselines.lua.
--
-- The settings come from the task (lua/slmmux/tasks/math.lua), so that the
-- baselines sample the same identities: the two models, k = 3 samples at
-- T = 0.3, max_tokens 2048, the SLM-MUX reference's prompts, and tie-break
-- accuracies from 500 problems of the MATH training split (disjoint from
-- MATH-500, one sample each). -s key=value changes any of them.
local mux = require "slmmux"
local slm_mux = require "slmmux.policies.slm_mux"
local vote = require "slmmux.vote"

local function solve(problem, ctx)
  -- Optional (-s early_exit=true): one sample per model; stop if all agree.
  local agreed, err = slm_mux.early_exit(ctx)
  if agreed or err then return agreed, err end
  -- 1. Independent generation: every model samples k answers at temperature
  --    T > 0, all models at once; no model sees another's output.
  local per_model, err2 = ctx.sample_all(ctx.opts.samples)  -- {{model=, answers={y1..yk}}...}
  if not per_model then return nil, err2 end
  -- 2. Confidence: s_i = frequency of model i's most common answer among
  --    its k samples (a failed sample still counts in k).
  local tops = {}
  for i, m in ipairs(per_model) do tops[i] = vote.top(m, ctx.task.equiv) end
  -- 3. Selection: the answer of the model with the highest s_i; ties go to
  --    the higher validation accuracy, then to the earlier model.
  return vote.select(tops, ctx.accuracy)
end

return mux.run {
  task = "math",
  policy = "slm_mux",
  solve = solve,
}
