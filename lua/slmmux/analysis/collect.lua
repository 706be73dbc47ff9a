-- The collecting run of a study (recipes/search.lua, recipes/scaling.lua):
-- mux.run fills the store with every sample the study replays, then the
-- run's results.jsonl becomes a panel (slmmux.analysis.panel).
local panel = require "slmmux.analysis.panel"
local runreport = require "slmmux.analysis.runreport"
local tasks = require "slmmux.tasks"

local M = {}

-- Problems whose samples are missing (--offline) or failed are left out by
-- the study, which says how many (unless the user set --max-errors). A run
-- whose every problem failed still fails, but only once the study has said
-- what the store lacks: its summary.json is written before the run raises.
-- Returns the summary and that failure.
local function run_tolerant(run, r, cli)
  local c = {}
  for k, v in pairs(cli) do c[k] = v end
  if c.max_errors == nil then c.max_errors = 1 end
  local ok, summary = pcall(run.run, r, c)
  if ok then return summary end
  local f = io.open((cli.out or r.out) .. "/summary.json", "r")
  if not f then error(summary, 0) end
  local written = require("cjson").decode(f:read("a"))
  f:close()
  return written, summary
end

--- Runs recipe r (with cli) and reads its samples. study names the caller
-- in errors. Returns the panel, the run's settings, its task and summary.
function M.panel(study, r, cli)
  local run = require "slmmux.run"
  local summary, failure = run_tolerant(run, r, cli)
  local cfg = run.configure(r, cli)
  local task = tasks.resolve(cfg.task, {boxed = cfg.boxed, prompts = cfg.prompts, compat = cfg.compat})
  local P, err = panel.build(runreport.lines(summary.out), cfg.models, cfg.samples, task.equiv)
  if not P then error(study .. ": " .. err, 0) end
  if failure then error(failure, 0) end
  return P, cfg, task, summary
end

return M
