-- `slmmux help` after the usage text: the registered policies and the
-- built-in tasks, one line each. Run as a script (./slmmux run lua/slmmux/help.lua).
local policies = require "slmmux.policies"
local tasks = require "slmmux.tasks"

local M = {}

local function rows(title, list)
  local width = 0
  for _, r in ipairs(list) do width = math.max(width, #r.name) end
  local out = {title}
  for _, r in ipairs(list) do
    out[#out + 1] = string.format("  %-" .. width .. "s  %s", r.name, r.description or "")
  end
  return table.concat(out, "\n") .. "\n"
end

-- The settings that make a run comparable with the paper's (slmmux.run.settings).
local SETTINGS = {
  {name = "validation=V", description = "tie-break accuracies: FILE, N (first N of the task's "
    .. "file), crossfit, or none (default: the task's)"},
  {name = "validation_samples=N", description = "samples per model and validation problem "
    .. "(default 1; crossfit: samples)"},
  {name = "folds=K", description = "cross-fitting folds (default 5)"},
  {name = "accuracy=M=A,...", description = "tie-break accuracies given instead of measured"},
  {name = "prompts=STYLE", description = "reference (the SLM-MUX reference's messages, default) "
    .. "or slmmux"},
  {name = "compat=reference", description = "score as the reference does (first \\boxed, "
    .. "normalised string equality)"},
  {name = "max_unextracted=S", description = "sanity check: share of a model's samples without "
    .. "an answer (default 0.2)"},
}

--- The text: policies (-s policy=NAME), tasks (-s task=NAME), then the
-- comparability settings.
function M.text()
  local list = {}
  for i, name in ipairs(policies.names()) do
    list[i] = {name = name, description = policies.get(name).description}
  end
  return rows("policies (-s policy=NAME):", list) .. "\n"
    .. rows("tasks (-s task=NAME):", tasks.list()) .. "\n"
    .. rows("settings for comparable runs (-s KEY=VALUE):", SETTINGS)
end

-- As a script (no module name in `...`): print it.
if select("#", ...) == 0 or (...) ~= "slmmux.help" then io.write(M.text()) end

return M
