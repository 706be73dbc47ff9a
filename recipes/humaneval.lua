-- SLM-MUX on HumanEval with behavioural agreement: Algorithm 1 of Wang et
-- al. (2025), where two programs count as the same answer when they behave
-- the same on the inputs of the docstring examples (never the hidden tests).
-- Every program runs in the sandbox (mux.exec); see lua/slmmux/agree/.
--
--   ./slmmux run recipes/humaneval.lua --limit 20        # the simulator, offline
--   ./slmmux run recipes/humaneval.lua -s models=Qwen/Qwen2.5-7B-Instruct-Turbo,google/gemma-2-27b-it
--
-- Prints pass@1 of the selected program, each model's pass@1 and pass@k
-- (unbiased estimator) and which model was selected; summary.json gets the
-- same under "humaneval".
local mux = require "slmmux"
local agree = require "slmmux.agree"
local humaneval = require "slmmux.tasks.humaneval"

local task = humaneval.new{timeout = 10, probe_timeout = 1}

local function solve(problem, ctx)
  -- 1. Independent generation: k programs per model at temperature T > 0.
  local per_model, err = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err end
  -- 2. Confidence: run every program on the docstring inputs; a model's
  --    confidence is the share of its programs in its largest behaviour group.
  --    (-s probe_variants=N adds N variants of each docstring input.)
  local sigs = task.signatures(agree.flatten(per_model), problem,
    {variants = ctx.opts.probe_variants})
  -- 3. Selection: the most confident model's program; ties go to the higher
  --    validation pass rate, then to the earlier model.
  local decision = agree.select(agree.split(per_model, sigs, ctx), {accuracy = ctx.accuracy})
  -- Bookkeeping only, after the decision: every sample's test outcome, for
  -- pass@k and results.jsonl.
  task.annotate(ctx)
  return decision
end

-- The settings come from the task (lua/slmmux/tasks/humaneval/): two models,
-- k = 5 at T = 0.8 (as Chen et al. 2021 sample for pass@k; confidence needs
-- T > 0), max_tokens 1024, the reference's prompt, and tie-break pass rates
-- cross-fitted on the 164 evaluated problems (each problem's from the other
-- folds' samples).
local summary = mux.run {
  task = task,
  probe_variants = 0,          -- extra inputs per docstring example (agree.variants)
  name = "SLM-MUX (behaviour agreement)",
  policy = "slm_mux_behaviour",
  solve = solve,
}
return humaneval.finish(summary, task)
