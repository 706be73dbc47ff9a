-- slmmux: the library a recipe requires. The C core ("slmmux.core") gives
-- the mechanisms (chat, tasks, timers, extraction, grouping, store, sandbox);
-- this file adds endpoint resolution and the task helpers written in Lua,
-- and mux.vote, the votes of slmmux.vote over the core's grouping.
local core = require "slmmux.core"
local config = require "slmmux.config"

local M = {}
for name, value in pairs(core) do
  M[name] = value
end
M.vote = require "slmmux.vote"   -- holds core.vote.count and core.vote.search too

M.cli = package.loaded["slmmux.cli"] or { overrides = {} }
M.cli.overrides = M.cli.overrides or {}
M.home = M.cli.home or "."
M.config = config

if M.cli.verbose then core.set_debug(true) end
if M.cli.offline then core.set_offline(true) end
if M.cli.batch_out then core.batch_out(M.cli.batch_out) end

-- The sample store opens on the first request, so recipes that never chat
-- (tests, search over results) never create one.
local store_state = M.cli.no_store and "off" or "closed"

local function ensure_store()
  if store_state ~= "closed" then return end
  local path = M.cli.store or os.getenv("SLMMUX_STORE") or ".slmmux/store.sqlite"
  -- offline nothing is written: a read-only store (an archive) will do
  local ok, err = core.use_store(path, {readonly = M.cli.offline or false})
  if not ok then
    error("cannot open the sample store " .. path .. ": " .. tostring(err)
          .. " (use --no-store to run without it)", 0)
  end
  store_state = "open"
  M.store_path = path
end

-- Misuse of the functions below raises like the C bindings' checks do:
-- "recipe.lua:12: mux.map: fn must be a function (got nil)", positioned at
-- the recipe's line, past this library's own frames (core.misuse).
local function misuse(fname, what, expected, value)
  core.misuse(fname .. ": " .. what .. " must be " .. expected .. " (got " .. type(value) .. ")")
end

--- mux.chat(req) -> resp | nil, message, info. Yields until done.
-- req is checked before a missing endpoint is reported: a misuse raises
-- whether or not an endpoint is configured.
function M.chat(req)
  if type(req) ~= "table" then misuse("mux.chat", "req", "a table {model=, messages=, ...}", req) end
  local endpoint, why = req.endpoint, nil
  if endpoint == nil then
    local ep
    ep, why = config.resolve(req.model)
    endpoint = ep and ep.name or false
  end
  ensure_store()
  return core.chat(req, endpoint, why)
end

--- mux.map(list, fn, {concurrency = N}) -> results in input order.
-- fn(item, index) runs as a task per item, at most N at once; an error in
-- one is raised here after the tasks already running have finished.
function M.map(list, fn, opts)
  if type(list) ~= "table" then misuse("mux.map", "list", "a table", list) end
  if type(fn) ~= "function" then misuse("mux.map", "fn", "a function", fn) end
  if opts ~= nil and type(opts) ~= "table" then misuse("mux.map", "opts", "a table", opts) end
  local limit = opts and opts.concurrency or #list
  if type(limit) ~= "number" or limit < 1 then
    core.misuse("mux.map: opts.concurrency must be a number >= 1")
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
-- A misused request raises here, at the caller's line: inside the tasks
-- that send the requests no frame of the recipe's is left to point at.
function M.chat_all(reqs)
  if type(reqs) ~= "table" then misuse("mux.chat_all", "reqs", "an array of requests", reqs) end
  local ok, results = pcall(M.map, reqs, function(req)
    local resp, err, info = M.chat(req)
    return resp or { error = err, info = info }
  end)
  if not ok then core.misuse(results) end
  return results
end

--- mux.run(recipe): the benchmark runner (lua/slmmux/run/).
function M.run(recipe)
  return require("slmmux.run").run(recipe)
end

return M
