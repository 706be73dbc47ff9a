-- LLM-Debate (Du et al., 2023, "Improving Factuality and Reasoning in
-- Language Models through Multiagent Debate", arXiv:2305.14325) on
-- MATH-500, as the SLM-MUX paper runs it as a baseline: 3 agents, 2 rounds
-- (the paper's defaults), each agent seeing the others' previous answers;
-- the final answer is the majority of the last round.
--
--   ./slmmux run recipes/debate.lua --limit 50
--   ./slmmux run recipes/debate.lua -s models=Qwen/Qwen2.5-7B-Instruct-Turbo -s agents=3   # one model, 3 agents
--   ./slmmux run recipes/debate.lua -s rounds=3 -s task=gsm8k
--
-- Agent a is model ((a-1) mod #models) + 1. Every call is in results.jsonl
-- (transcript, with agent and round) and in summary.json's accounting; each
-- agent's and round's samples are its own in the store, so a killed run
-- resumes to the same decisions. The algorithm is lua/slmmux/policies/debate.lua,
-- written with the ctx a recipe's own solve gets; -s policy=debate in
-- recipes/baselines.lua runs it too.
local mux = require "slmmux"

return mux.run {
  task = "math",
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo",
    "meta-llama/Llama-3.1-8B-Instruct-Turbo"},
  policy = "debate",
  agents = 3,                  -- N
  rounds = 2,                  -- R
  samples = 1,                 -- one answer per agent and round
  temperature = 0.3,           -- as recipes/math.lua samples, for comparison on the same run
  max_tokens = 2048,
  validation = false,          -- the last round's majority needs no tie-break accuracies
}
