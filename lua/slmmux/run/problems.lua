-- Which problems a run evaluates: the task's data (looked up in the
-- slmmux home when it is not in the working directory), less the held-out
-- validation records, shuffled and limited as the settings say.
local data = require "slmmux.data"
local errors = require "slmmux.errors"

local mux = require "slmmux"

local M = {}

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- A relative data path missing from the working directory is looked up in
-- the slmmux home (the source tree, or share/slmmux after make install).
local function find_data(path)
  if exists(path) or path:sub(1, 1) == "/" or not mux.home then return path end
  local alt = mux.home .. "/" .. path
  return exists(alt) and alt or path
end

local function slice(list, from, to)
  local out = {}
  for i = from, math.min(to, #list) do out[#out + 1] = list[i] end
  return out
end

--- The evaluated problems, the validation problems (or nil) and the data
-- path. cfg.validation = {limit, offset [, data]}: without data, records
-- offset+1..offset+limit of the run's own data, left out of the evaluated ones.
function M.select(cfg, task)
  local path = cfg.data or task.default_data
  if not path then errors.usage(string.format("task '%s' has no default data: set 'data'", task.name)) end
  path = find_data(path)
  local problems = task.load(path)
  local v, val = cfg.validation, nil
  if v and v.data then
    val = slice(task.load(find_data(v.data)), v.offset + 1, v.offset + v.limit)
  elseif v then
    val = slice(problems, v.offset + 1, v.offset + v.limit)
    local rest = slice(problems, 1, v.offset)
    for _, p in ipairs(slice(problems, v.offset + v.limit + 1, #problems)) do rest[#rest + 1] = p end
    problems = rest
  end
  if cfg.shuffle then data.shuffle(problems, cfg.seed) end
  if cfg.limit then problems = slice(problems, 1, cfg.limit) end
  return problems, val, path
end

return M
