-- The runner, `mux.run(recipe)`: the mechanics every recipe shares, so that
-- a recipe only states its policy. Its parts, each in this folder:
--   settings.lua    the recipe's fields, their defaults and -s coercion
--   problems.lua    which problems are evaluated (and held out for validation)
--   backend.lua     endpoints or the simulator, and the chat every request uses
--   validation.lua  the tie-break accuracies
--   context.lua     the ctx a policy gets for one problem
--   results.lua     results.jsonl and its writer
-- and slmmux.report for summary.json, the table and the progress line.
--
-- `solve = function(problem, ctx)` is the recipe's own implementation of
-- `policy`; -s policy=NAME switches to the registered policy NAME
-- (slmmux.policies) instead.
--
-- validation = {limit = N, offset = 0 [, data = path]} (or just N): before the
-- run, each model answers those problems once; its accuracy there breaks
-- SLM-MUX confidence ties (and picks the model of policy `single`). Without
-- `data`, the validation problems are the records offset+1..offset+N of the
-- run's own data and are left out of the evaluated problems. Without
-- validation, `accuracy = {[model] = acc}` is used, else model order.
--
-- A dataset of your own is one task table, e.g. in the recipe file itself
-- (the simulator states its answers in a phrasing `extract` reads back):
--
--   local data = require "slmmux.data"
--   local trivia = {
--     name = "trivia", equiv = "exact",
--     load = function(path)   -- errors name the file and record
--       local ps = data.load(path, {fields = {q = "string", a = "string"}})
--       for i, p in ipairs(ps) do p.id, p.text, p.reference = "trivia-" .. i, p.q, p.a end
--       return ps
--     end,
--     prompt = function(p)
--       return {{role = "user", content = p.text .. "\nEnd with 'Answer: X'."}}
--     end,
--     extract = function(text, p) return text and text:match("Answer:%s*(.-)%s*$") end,
--     score = function(answer, p) return answer ~= nil and answer:lower() == p.reference:lower() end,
--     reference = function(p) return p.reference end,
--   }
--   return mux.run{task = trivia, data = "trivia.jsonl", models = {"m1", "m2"}}
local backend = require "slmmux.run.backend"
local context = require "slmmux.run.context"
local policies = require "slmmux.policies"
local problems_of = require "slmmux.run.problems"
local report = require "slmmux.report"
local results = require "slmmux.run.results"
local settings = require "slmmux.run.settings"
local tasks = require "slmmux.tasks"
local validation = require "slmmux.run.validation"

local mux = require "slmmux"

local M = {}

M.configure = settings.configure

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

local function notice(msg)
  io.stderr:write("slmmux: ", msg, "\n")
end

-- The solve function and the policy's name: the recipe's own solve, unless
-- -s policy=NAME asks for a registered one.
local function choose_policy(cfg, recipe, cli)
  local overridden = cli.overrides and cli.overrides.policy ~= nil
  if recipe.solve and not overridden then
    if type(recipe.solve) ~= "function" then fail("recipe: 'solve' must be a function") end
    return recipe.solve, cfg.policy
  end
  local policy, err = policies.get(cfg.policy)
  if not policy then fail("-s policy=%s: %s", cfg.policy, err) end
  return policy.solve, cfg.policy
end

local function label_of(cfg, recipe, policy, solve, accuracy)
  if solve == recipe.solve and recipe.name then return recipe.name end
  return policies.label(policy, cfg, accuracy)
end

local function warn_settings(cfg, policy)
  if cfg.temperature == 0 and cfg.samples > 1 and policy ~= "single" then
    notice("warning: temperature 0 makes a model's samples identical; "
      .. "SLM-MUX confidence needs temperature > 0")
  end
end

local function new_context(st, problem, models)
  return context.new(problem, {task = st.task, models = models or st.cfg.models, opts = st.cfg,
    accuracy = st.accuracy, seed = st.seed, chat = st.chat(problem)})
end

local function solve_one(st, problem)
  local ctx = new_context(st, problem)
  local t0 = mux.now()
  local decision, err = st.solve(problem, ctx)
  local line = results.line(st.task, st.cfg.models, problem, ctx, decision, err)
  line.elapsed_s = math.floor((mux.now() - t0) * 1000 + 0.5) / 1000
  report.add(st.tally, line)
  st.queue[#st.queue + 1] = results.encode(line)
  local p = st.progress
  p.done = p.done + 1
  if line.error then p.errors = p.errors + 1 end
end

local function solve_all(st, problems)
  local p = st.progress
  p.phase, p.done, p.total, p.started = st.task.name, 0, #problems, mux.now()
  p.calls_before = p.calls
  mux.map(problems, function(problem) solve_one(st, problem) end,
    {concurrency = st.cfg.concurrency})
end

local function finish(st, meta)
  meta.wall_s = math.floor((mux.now() - st.t0) * 1000 + 0.5) / 1000
  meta.calls = st.progress.calls
  meta.host_stats = mux.stats and mux.stats() or nil
  local summary = report.summary(st.tally, meta)
  local f = assert(io.open(meta.out .. "/summary.json", "w"))
  f:write(report.encode_pretty(summary))
  f:close()
  if not st.cfg.quiet then io.write(report.table(summary)) io.flush() end
  return summary
end

--- Runs a recipe (see the header) and returns its summary (as summary.json).
-- cli defaults to mux.cli: {limit, out, concurrency, shuffle, seed, offline,
-- overrides = {key = "value"}, recipe = path}.
function M.run(recipe, cli)
  if type(recipe) ~= "table" then error("slmmux.run: expected a recipe table", 2) end
  cli = cli or mux.cli or {}
  local cfg = settings.configure(recipe, cli)
  local task = tasks.resolve(cfg.task, {boxed = cfg.boxed})
  local solve, policy = choose_policy(cfg, recipe, cli)
  warn_settings(cfg, policy)
  local problems, val_problems, path = problems_of.select(cfg, task)
  local source, endpoints = backend.choose(cfg, cli)
  local st = {cfg = cfg, task = task, solve = solve, accuracy = cfg.accuracy, queue = {},
    tally = report.tally(cfg.models), t0 = mux.now(),
    progress = {phase = task.name, done = 0, total = #problems, in_flight = 0, calls = 0,
      tokens = 0, errors = 0, started = mux.now(), running = true}}
  st.chat = backend.chat_for(source, task, cfg, st.progress)
  st.seed = backend.request_seed(cfg, recipe, cli)
  local out = results.out_dir(cfg, task.name, policy)
  local meta = {task = task.name, data = path, policy = policy, backend = source,
    endpoints = endpoints, out = out, prices = cfg.prices,
    sim_profiles = source == "sim" and backend.sim_profiles(cfg) or nil,
    config = settings.record(cfg, cli), started_at = os.date("!%Y-%m-%dT%H:%M:%SZ")}
  local shown = mux.spawn(report.progress, st.progress)
  local written = mux.spawn(results.writer, st, out .. "/results.jsonl")
  local ok, err = pcall(function()
    if val_problems then
      st.accuracy, meta.validation = validation.run(st, val_problems,
        function(problem, models) return new_context(st, problem, models) end)
    end
    solve_all(st, problems)
  end)
  st.done, st.progress.running = true, false
  mux.wait(written)
  mux.wait(shown)
  if not ok then error(err, 0) end
  meta.accuracy = st.accuracy
  meta.label = label_of(cfg, recipe, policy, solve, st.accuracy)
  return finish(st, meta)
end

return M
