-- slmmux: the library a recipe requires. The C core ("slmmux.core") gives
-- the mechanisms (chat, tasks, timers, extraction, voting, store, sandbox);
-- this file adds endpoint resolution and the task helpers written in Lua.
local core = require "slmmux.core"
local config = require "slmmux.config"

local M = {}
for name, value in pairs(core) do
  M[name] = value
end

M.cli = package.loaded["slmmux.cli"] or { overrides = {} }
M.cli.overrides = M.cli.overrides or {}
M.home = M.cli.home or "."
M.config = config

if M.cli.verbose then core.set_debug(true) end
if M.cli.offline then core.set_offline(true) end

-- The sample store opens on the first request, so recipes that never chat
-- (tests, search over results) never create one.
local store_state = M.cli.no_store and "off" or "closed"

local function ensure_store()
  if store_state ~= "closed" then return end
  local path = M.cli.store or os.getenv("SLMMUX_STORE") or ".slmmux/store.sqlite"
  local ok, err = core.use_store(path)
  if not ok then
    error("cannot open the sample store " .. path .. ": " .. tostring(err)
          .. " (use --no-store to run without it)", 0)
  end
  store_state = "open"
  M.store_path = path
end

--- mux.chat(req) -> resp | nil, message, info. Yields until done.
function M.chat(req)
  if type(req) ~= "table" then
    error("mux.chat: req must be a table {model=, messages=, ...}", 2)
  end
  if req.endpoint == nil then
    local ep, err = config.resolve(req.model)
    if not ep then
      return nil, err, { kind = "config", message = err, attempts = 0 }
    end
    req.endpoint = ep.name
  end
  ensure_store()
  return core.chat(req)
end

--- mux.map(list, fn, {concurrency = N}) -> results in input order.
-- fn(item, index) runs as a task per item, at most N at once; an error in
-- one is raised here after the tasks already running have finished.
function M.map(list, fn, opts)
  if type(list) ~= "table" then error("mux.map: list must be a table", 2) end
  if type(fn) ~= "function" then error("mux.map: fn must be a function", 2) end
  local limit = opts and opts.concurrency or #list
  if type(limit) ~= "number" or limit < 1 then
    error("mux.map: concurrency must be a number >= 1", 2)
  end
  local results, n, next_index, failure = {}, #list, 1, nil
  local function worker()
    while next_index <= n and not failure do
      local i = next_index
      next_index = i + 1
      local ok, value = pcall(fn, list[i], i)
      if ok then results[i] = value else failure = failure or value end
    end
  end
  local workers = {}
  for w = 1, math.min(limit, n) do workers[w] = core.spawn(worker) end
  for _, task in ipairs(workers) do core.wait(task) end
  if failure then error(failure, 0) end
  return results
end

--- mux.chat_all(reqs) -> array in order: each a resp or {error=, info=}.
function M.chat_all(reqs)
  if type(reqs) ~= "table" then error("mux.chat_all: reqs must be an array", 2) end
  return M.map(reqs, function(req)
    local resp, err, info = M.chat(req)
    return resp or { error = err, info = info }
  end)
end

--- mux.run(recipe): the benchmark runner (lua/slmmux/run/).
function M.run(recipe)
  return require("slmmux.run").run(recipe)
end

return M
