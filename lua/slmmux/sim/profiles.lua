-- The simulated models. A profile:
--   accuracy     probability that a sample is right, over the whole dataset
--                (a number, or a table per task name: {math =, gsm8k =, gpqa =})
--   consistency  probability that a wrong sample repeats the model's favourite
--                wrong answer to that question instead of a scattered one
--   latency_ms   mean latency of one request (scaled down so demos take seconds)
--   tokens       mean completion tokens of one sample
--   error_rate   share of (model, question) pairs whose request fails (default 0)
--   conformity   in a conversation, how strongly the answers shown pull (0: never,
--                1: always when they agree; default 0.5): see sim/init.lua
--   overconfidence  upward bias of a stated confidence (default 0.2)
--
-- The profiles below are simulated, not measured: accuracies are rounded,
-- rough public figures for these models (model cards, leaderboards), not the
-- SLM-MUX paper's measurements; they exist for demos and tests. Conformity
-- is lower for larger models, the direction the SLM-MUX paper reports (small
-- models follow the group in a discussion), its size a guess.
local hash = require "slmmux.sim.hash"

local M = {}

M.profiles = {
  ["sim/mistral-small-24b"] = {accuracy = {math = 0.70, gsm8k = 0.92, gpqa = 0.45},
    consistency = 0.45, conformity = 0.55, latency_ms = 700, tokens = 520},
  ["sim/qwen2.5-7b"] = {accuracy = {math = 0.74, gsm8k = 0.89, gpqa = 0.33},
    consistency = 0.40, conformity = 0.6, latency_ms = 450, tokens = 560},
  ["sim/llama-3.1-8b"] = {accuracy = {math = 0.50, gsm8k = 0.84, gpqa = 0.28},
    consistency = 0.35, conformity = 0.65, latency_ms = 450, tokens = 480},
  ["sim/gemma-2-27b"] = {accuracy = {math = 0.45, gsm8k = 0.90, gpqa = 0.38},
    consistency = 0.45, conformity = 0.55, latency_ms = 650, tokens = 420},
  ["sim/llama-3.2-3b"] = {accuracy = {math = 0.46, gsm8k = 0.77, gpqa = 0.27},
    consistency = 0.30, conformity = 0.7, latency_ms = 300, tokens = 500},
  ["sim/mistral-7b"] = {accuracy = {math = 0.15, gsm8k = 0.55, gpqa = 0.28},
    consistency = 0.30, conformity = 0.7, latency_ms = 400, tokens = 400},
  ["sim/qwen2.5-72b"] = {accuracy = {math = 0.82, gsm8k = 0.95, gpqa = 0.49},
    consistency = 0.55, conformity = 0.35, latency_ms = 1200, tokens = 600},
  -- frontier models, for recipes/frontier.lua
  ["sim/gpt-4o"] = {accuracy = {math = 0.76, gsm8k = 0.95, gpqa = 0.53},
    consistency = 0.6, conformity = 0.3, overconfidence = 0.1, latency_ms = 900, tokens = 550},
  ["sim/deepseek-v3"] = {accuracy = {math = 0.90, gsm8k = 0.96, gpqa = 0.59},
    consistency = 0.6, conformity = 0.3, overconfidence = 0.1, latency_ms = 1500, tokens = 700},
  ["sim/llama-3.3-70b"] = {accuracy = {math = 0.77, gsm8k = 0.95, gpqa = 0.50},
    consistency = 0.55, conformity = 0.35, overconfidence = 0.15, latency_ms = 1000, tokens = 550},
}

-- Real model ids (Together, Hugging Face, Ollama spellings) map to a profile.
local ALIASES = {
  {"mistral%-small", "sim/mistral-small-24b"},
  {"qwen2%.5%-72b", "sim/qwen2.5-72b"},
  {"qwen2%.5%-7b", "sim/qwen2.5-7b"},
  {"llama%-3%.1%-8b", "sim/llama-3.1-8b"},
  {"gemma%-2%-27b", "sim/gemma-2-27b"},
  {"llama%-3%.2%-3b", "sim/llama-3.2-3b"},
  {"mistral%-7b", "sim/mistral-7b"},
  {"gpt%-4o", "sim/gpt-4o"},
  {"deepseek%-v3", "sim/deepseek-v3"},
  {"llama%-3%.3%-70b", "sim/llama-3.3-70b"},
}

local function default_profile(model)
  local u = function(tag) return hash.uniform("profile", tag, model) end
  return {accuracy = 0.3 + 0.5 * u("acc"), consistency = 0.3 + 0.3 * u("cons"),
    conformity = 0.4 + 0.3 * u("conf"), latency_ms = 300 + 500 * u("lat"), tokens = 300 + 400 * u("tok")}
end

--- The profile simulating `model` and its name: an exact profile name, a
-- known model id, or "default", derived from a hash of the model's name.
-- extra = {[name] = profile} (a recipe's own) wins.
function M.profile(model, extra)
  if extra and extra[model] then return extra[model], model end
  if M.profiles[model] then return M.profiles[model], model end
  local name = model:lower()
  for _, a in ipairs(ALIASES) do
    if name:find(a[1]) then return M.profiles[a[2]], a[2] end
  end
  return default_profile(model), "default"
end

--- The profile's accuracy on `task` (a per-task table falls back to its
-- `default`, else 0.5).
function M.accuracy(profile, task)
  local acc = profile.accuracy
  if type(acc) == "table" then acc = acc[task.name] or acc.default or 0.5 end
  return acc
end

return M
