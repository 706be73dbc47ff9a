-- Where a run's samples come from: the configured endpoints (mux.chat) or
-- the built-in simulator, never a mix; and the one chat function every
-- request of the run goes through (ctx.chat's, whatever the policy), which
-- keeps the progress counts: calls, requests in flight, tokens paid for.
local context = require "slmmux.run.context"
local errors = require "slmmux.errors"
local sim = require "slmmux.sim"

local mux = require "slmmux"

local M = {}

local function notice(msg)
  io.stderr:write("slmmux: ", msg, "\n")
end

-- concurrency is the requests in flight (mux.set_concurrency); problems in
-- flight follow from it, or from the endpoints' limits: each problem has a
-- request in flight at least, so no other cap applies. Each endpoint's
-- limits are printed, as they are the first thing to check of a slow run.
local function admit(cfg, endpoints)
  if cfg.concurrency then mux.set_concurrency(cfg.concurrency) end
  local seen, total = {}, 0
  for _, m in ipairs(cfg.models) do
    local ep = endpoints[m]
    if ep and not seen[ep.name] then
      seen[ep.name] = true
      notice(mux.config.describe(ep.name))
      total = total + mux.endpoint_info(ep.name).limit
    end
  end
  cfg.concurrency = cfg.concurrency or (total > 0 and total or 64)
end

--- "api" (and the endpoint of each model) when every model has an endpoint,
-- "sim" when none has (or when asked); a mix is an error, since
-- half-simulated results would mean nothing.
function M.choose(cfg, cli)
  if cfg.backend == "sim" then
    notice("backend=sim: answers come from the built-in simulator (simulated models, not measurements)")
    cfg.concurrency = cfg.concurrency or 64
    return "sim"
  end
  local resolve = mux.config and mux.config.resolve
  local endpoints, missing = {}, {}
  for _, m in ipairs(cfg.models) do
    local ep = resolve and resolve(m)
    if ep then endpoints[m] = {name = ep.name, base_url = ep.base_url}
    else missing[#missing + 1] = m end
  end
  if cfg.backend == "api" or cli.offline or #missing == 0 then
    admit(cfg, endpoints)
    return "api", endpoints
  end
  if #missing < #cfg.models then
    errors.config(string.format("no endpoint configured for %s (but for other models there is); "
      .. "configure it, or simulate every model with -s backend=sim",
      table.concat(missing, ", ")))
  end
  notice("no endpoint configured for " .. table.concat(missing, ", ")
    .. "; using the built-in simulator (-s backend=sim)")
  cfg.concurrency = cfg.concurrency or 64
  return "sim"
end

--- The seed every request is sent with (sample i: seed + i), or nil: only
-- when the run was given one (--seed, -s seed= or the recipe's seed), so
-- that runs without it keep the sample identities they always had.
function M.request_seed(cfg, recipe, cli)
  local given = cli.seed ~= nil or (cli.overrides and cli.overrides.seed ~= nil) or recipe.seed ~= nil
  return given and cfg.seed or nil
end

--- chat_for(problem) -> function(req) -> resp | nil, err, info: the
-- backend's chat for one problem, counting calls, requests in flight and
-- tokens paid for (a stored sample costs none) in `progress`.
function M.chat_for(backend, task, cfg, progress)
  local simulator = backend == "sim" and sim.new(task, {seed = cfg.seed, profiles = cfg.profiles})
  return function(problem)
    return function(req)
      progress.in_flight = progress.in_flight + 1
      local resp, err, info
      if simulator then resp, err, info = simulator:chat(req, problem)
      else resp, err, info = mux.chat(req) end
      progress.in_flight, progress.calls = progress.in_flight - 1, progress.calls + 1
      if resp then
        local p, c = context.billed(resp)
        progress.tokens = progress.tokens + p + c
      end
      return resp, err, info
    end
  end
end

--- {[model] = simulator profile name}, for summary.json.
function M.sim_profiles(cfg)
  local names = {}
  for _, m in ipairs(cfg.models) do
    local _, name = sim.profile(m, cfg.profiles)
    names[m] = name
  end
  return names
end

return M
