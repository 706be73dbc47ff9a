-- Stage 2 of SLM-MUX: which models to orchestrate. Every model of the pool
-- samples k answers to each question of the task's validation set (MATH:
-- 500 problems of its training split, disjoint from MATH-500); then every
-- subset of 2..5 models is scored by union accuracy - lambda *
-- contradiction (the cleaned reference release's definitions: see
-- lua/slmmux/analysis/search.lua), and each size's best subsets are shown
-- with their SLM-MUX accuracy computed offline from the same samples, the
-- best single model, lambda chosen by 5-fold cross-validation, and the
-- search order (for recipes/scaling.lua).
--
--   ./slmmux run recipes/search.lua                                 the pool below
--   ./slmmux run recipes/search.lua -s models=a,b,c,d -s samples=5 -s lambda=1
--   ./slmmux run recipes/search.lua --offline                       from the store alone
--
-- Samples go through the store: a rerun, or a larger k, requests only what
-- is missing. Settings besides a run's: lambda (0.5), robust_level (2),
-- min_size (2), max_size (5, up to the pool), top (3 per size), normalize
-- (solved | all), lambdas ("0,0.1,...,1"), folds (5).
local searchrun = require "slmmux.analysis.searchrun"

return searchrun.recipe {
  task = "math",
  models = {
    "mistralai/Mistral-Small-24B-Instruct-2501",
    "Qwen/Qwen2.5-7B-Instruct-Turbo",
    "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
    "google/gemma-2-27b-it",
    "meta-llama/Llama-3.2-3B-Instruct-Turbo",
    "mistralai/Mistral-7B-Instruct-v0.3",
  },
  samples = 3,
}
