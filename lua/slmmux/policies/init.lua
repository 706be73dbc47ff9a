-- The policies `-s policy=NAME` chooses from, by name. A policy is a table
-- {solve =, label =, description =}:
--   solve(problem, ctx) -> decision {answer =, model =, confidence =, reason =},
--     or nil, errmsg when a request failed for good. ctx (slmmux.run.context):
--     ctx.chat(req) and ctx.chat_all(reqs), the one door to the models (any
--     messages, any OpenAI field, a place: agent =, round =, role =);
--     ctx.sample_all(k [, models]) -> {{model =, answers = {...}}...} over it;
--     ctx.prompt(), ctx.task, ctx.models, ctx.accuracy ({[model] = validation
--     accuracy} or nil), ctx.opts (the run's settings, a policy's own too).
--     Answers that could not be extracted are `false` and never win a vote.
--   label: the name in the report, a string or function(cfg, accuracy) -> string
--   description: one line for `slmmux help`
-- The built-in ones are the files of this folder; a recipe adds its own with
-- register() before mux.run, and then -s policy=NAME selects it too.
local M = {}

local BUILT_IN = {"slm_mux", "slm_mux_adaptive", "single", "majority", "weighted", "debate", "moa", "mav"}

local registry = {}

--- Adds (or replaces) policy `name`. Returns the policy.
function M.register(name, policy)
  if type(name) ~= "string" or not name:match("^[%w_%-]+$") then
    error("policies.register: name must be a word (letters, digits, _ or -)", 2)
  end
  if type(policy) ~= "table" or type(policy.solve) ~= "function" then
    error("policies.register: policy '" .. name .. "' needs solve = function(problem, ctx)", 2)
  end
  local label = policy.label
  if label ~= nil and type(label) ~= "string" and type(label) ~= "function" then
    error("policies.register: label of '" .. name .. "' must be a string or a function", 2)
  end
  if type(policy.description) ~= "string" then
    error("policies.register: policy '" .. name .. "' needs a one-line description", 2)
  end
  registry[name] = policy
  return policy
end

--- The registered names, sorted.
function M.names()
  local names = {}
  for name in pairs(registry) do names[#names + 1] = name end
  table.sort(names)
  return names
end

--- The policy `name`, or nil and a message listing the registered ones.
function M.get(name)
  local policy = registry[name]
  if policy then return policy end
  return nil, string.format("unknown policy '%s'; registered: %s", tostring(name),
    table.concat(M.names(), ", "))
end

--- The report's name of policy `name` for a run's settings: its label
-- (called with cfg and the tie-break accuracies when a function), else the name.
function M.label(name, cfg, accuracy)
  local label = registry[name] and registry[name].label
  if type(label) == "function" then return label(cfg, accuracy) end
  return label or name
end

for _, name in ipairs(BUILT_IN) do M.register(name, require("slmmux.policies." .. name)) end
local confidence = require "slmmux.policies.confidence"
M.register("mux_verbalized", confidence.variant("verbalized"))
M.register("mux_logprob", confidence.variant("logprob"))
M.register("mux_confidence", confidence.variant(nil))

return M
