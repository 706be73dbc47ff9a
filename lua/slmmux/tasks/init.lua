-- The built-in tasks, by the name `task = "NAME"` (or -s task=NAME) gives.
-- A task is a table {name, load, prompt, extract, score [, reference, equiv,
-- default_data, description]}; a recipe may pass its own table instead.
local errors = require "slmmux.errors"

local M = {}

M.BUILT_IN = {"gpqa", "gsm8k", "humaneval", "math"}

local REQUIRED = {"name", "load", "prompt", "extract", "score"}

local function is_built_in(name)
  for _, n in ipairs(M.BUILT_IN) do
    if n == name then return true end
  end
  return false
end

--- The task a run uses: a built-in name (made with opts = {boxed =,
-- prompts =, compat =}) or a task table (given opts through its
-- configure(opts), if it has one), checked for the required fields, with
-- reference defaulting to p.reference. Raises a message naming the problem.
function M.resolve(task, opts)
  if type(task) == "string" then
    if not is_built_in(task) then
      errors.usage(string.format("unknown task '%s' (built in: %s; or give a task table)", task,
        table.concat(M.BUILT_IN, ", ")))
    end
    local mod = require("slmmux.tasks." .. task)
    task = mod.new and mod.new(opts) or mod
  elseif type(task) == "table" and type(task.configure) == "function" then
    task.configure(opts or {})
  end
  for _, f in ipairs(REQUIRED) do
    if task[f] == nil then error("task: missing field '" .. f .. "'", 0) end
  end
  task.reference = task.reference or function(p) return p.reference end
  return task
end

--- The settings a run of `task` (a name or a table) starts from, beside
-- SETTINGS' defaults: {models =, samples =, validation = ...}, or {}.
function M.settings(task)
  if type(task) == "table" then return type(task.settings) == "table" and task.settings or {} end
  if type(task) ~= "string" or not is_built_in(task) then return {} end
  return require("slmmux.tasks." .. task).SETTINGS or {}
end

--- {{name =, description =}...} of the built-in tasks, in name order.
function M.list()
  local out = {}
  for i, name in ipairs(M.BUILT_IN) do
    out[i] = {name = name, description = require("slmmux.tasks." .. name).description}
  end
  return out
end

return M
