-- Stage 3 of SLM-MUX: test-time scaling. Every model samples max_k = 9
-- answers to each problem (through the store: only missing samples are
-- requested), then, offline, accuracy against samples per model (k =
-- 1..9) and against the number of models (2..N, added in the order given,
-- at k = 3), for SLM-MUX, Agent Forest, the best model's self-consistency
-- and its single sample, each point the mean of 200 Monte-Carlo trials
-- with its 2.5-97.5% interval; accuracy against tokens, and against cost
-- when the run has prices. See lua/slmmux/analysis/scaling.lua.
--
--   ./slmmux run recipes/scaling.lua                               the models below
--   ./slmmux run recipes/scaling.lua -s search=runs/search-math-DATE   in that search's order
--   ./slmmux run recipes/scaling.lua -s policies=weighted -s trials=500 --seed 7
--   ./slmmux run recipes/scaling.lua --offline                     from the store alone
local scalingrun = require "slmmux.analysis.scalingrun"

return scalingrun.recipe {
  task = "math",
  models = {
    "mistralai/Mistral-Small-24B-Instruct-2501",
    "Qwen/Qwen2.5-7B-Instruct-Turbo",
    "meta-llama/Llama-3.2-3B-Instruct-Turbo",
    "google/gemma-2-27b-it",
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
  },
}
