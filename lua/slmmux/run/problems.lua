-- Which problems a run evaluates and which give the tie-break accuracies:
-- the task's data (looked up in the slmmux home when it is not in the
-- working directory), the validation problems the settings name (another
-- file, records held out of the data, or none: crossfit uses the evaluated
-- problems themselves), then shuffled and limited as the settings say.
-- Also what the sanity checks need to know about the data: duplicate ids,
-- and validation problems that are evaluated problems too.
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
function M.find_data(path)
  if exists(path) or path:sub(1, 1) == "/" or not mux.home then return path end
  local alt = mux.home .. "/" .. path
  return exists(alt) and alt or path
end

local function slice(list, from, to)
  local out = {}
  for i = from, math.min(to, #list) do out[#out + 1] = list[i] end
  return out
end

--- The ids that occur more than once in `problems`: {{id =, count =}...}
-- in order of first occurrence.
function M.duplicate_ids(problems)
  local count, order = {}, {}
  for _, p in ipairs(problems) do
    local id = tostring(p.id)
    if not count[id] then order[#order + 1] = id end
    count[id] = (count[id] or 0) + 1
  end
  local dups = {}
  for _, id in ipairs(order) do
    if count[id] > 1 then dups[#dups + 1] = {id = id, count = count[id]} end
  end
  return dups
end

local function normalized_text(p)
  return type(p.text) == "string" and p.text:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "") or nil
end

--- How many of `val` have the text (whitespace-normalised) of one of `problems`.
function M.overlap(val, problems)
  local texts, n = {}, 0
  for _, p in ipairs(problems) do
    local t = normalized_text(p)
    if t then texts[t] = true end
  end
  for _, p in ipairs(val) do
    if texts[normalized_text(p) or false] then n = n + 1 end
  end
  return n
end

local function validation_of(v, task, problems)
  if not v or v.kind == "crossfit" then return nil, problems end
  if v.kind == "data" then
    local path = M.find_data(v.data)
    if not exists(path) then
      errors.usage(string.format("validation=%s: no such file (validation takes FILE, N, "
        .. "crossfit or none)", v.data))
    end
    local all = task.load(path)
    local to = v.limit and v.offset + v.limit or #all
    return {path = path, records = #all, problems = slice(all, v.offset + 1, to)}, problems
  end
  local held = slice(problems, v.offset + 1, v.offset + v.limit)
  local rest = slice(problems, 1, v.offset)
  for _, p in ipairs(slice(problems, v.offset + v.limit + 1, #problems)) do rest[#rest + 1] = p end
  return {problems = held}, rest
end

--- The selection: {problems (evaluated), path (data file), records (in
-- it), validation = nil | {problems, path, records} (nil for crossfit and
-- none), duplicates = {evaluated =, validation =}, overlap = N}.
-- cfg.validation as slmmux.run.settings normalises it.
function M.select(cfg, task)
  local path = cfg.data or task.default_data
  if not path then errors.usage(string.format("task '%s' has no default data: set 'data'", task.name)) end
  path = M.find_data(path)
  local all = task.load(path)
  local val, problems = validation_of(cfg.validation, task, all)
  if cfg.shuffle then data.shuffle(problems, cfg.seed) end
  if cfg.limit then problems = slice(problems, 1, cfg.limit) end
  local sel = {problems = problems, path = path, records = #all, validation = val,
    duplicates = {evaluated = M.duplicate_ids(all)}, overlap = 0}
  if val then
    sel.duplicates.validation = M.duplicate_ids(val.problems)
    if val.path then sel.overlap = M.overlap(val.problems, all) end
  end
  return sel
end

return M
