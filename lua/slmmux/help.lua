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

-- The analysis: the two recipes' own settings, and the compare command.
local ANALYSIS = {
  {name = "recipes/search.lua", description = "model-selection search on the validation set: lambda=0.5 "
    .. "robust_level=2 min_size=2 max_size=5 top=3 normalize=solved|all lambdas=0,0.1,...,1 folds=5"},
  {name = "recipes/scaling.lua", description = "test-time scaling from stored samples: max_k=9 trials=200 "
    .. "models_k=3 policies=NAME,... search=SEARCH_RUN_DIR (its model order) --seed N"},
  {name = "slmmux compare A B ...", description = "paired comparison of run directories: bootstrap "
    .. "interval, exact McNemar, wins/losses/ties (--out DIR, --seed N)"},
  {name = "figures", description = "every run, search, study and comparison writes PNG+SVG (gnuplot) "
    .. "with TSV beside them, and report.html; SLMMUX_GNUPLOT names the program"},
}

--- The text: policies (-s policy=NAME), the settings of those that have
-- their own, tasks (-s task=NAME), the comparability settings, the analysis.
function M.text()
  local list, settings = {}, {}
  for i, name in ipairs(policies.names()) do
    local p = policies.get(name)
    list[i] = {name = name, description = p.description}
    if p.settings then settings[#settings + 1] = {name = name, description = p.settings} end
  end
  settings[#settings + 1] = {name = "(any)", description = "partial=true: a call that failed for good "
    .. "leaves the others to decide (default: the problem is an error, retried next run)"}
  return rows("policies (-s policy=NAME):", list) .. "\n"
    .. rows("their settings (-s KEY=VALUE, defaults shown):", settings) .. "\n"
    .. rows("tasks (-s task=NAME):", tasks.list()) .. "\n"
    .. rows("settings for comparable runs (-s KEY=VALUE):", SETTINGS) .. "\n"
    .. rows("analysis (search, scaling, comparison):", ANALYSIS)
end

-- As a script (no module name in `...`): print it.
if select("#", ...) == 0 or (...) ~= "slmmux.help" then io.write(M.text()) end

return M
