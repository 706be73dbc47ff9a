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
local errors = require "slmmux.errors"
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

local function fail(fmt, ...) errors.usage(string.format(fmt, ...)) end

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

-- How a run stops early and when it counts as failed, in one place.
local RUN = {
  grace_s = 10,       -- after SIGINT/SIGTERM, how long problems in flight may finish
  poll_s = 0.05,      -- how often the main task looks at the solving task
  max_errors = 0.1,   -- default --max-errors: the share of failed problems that fails the run
}

-- A context whose requests note an interruption or a deferral to a batch
-- file (--batch-out): a problem that lost a request to either is not
-- recorded (it runs again on resume), even if its policy made a decision
-- from the samples it did get.
local UNRECORDED = {interrupted = true, batch = true}

local function new_context(st, problem, models, flags)
  local chat = st.chat(problem)
  local function noted(req)
    local resp, err, info = chat(req)
    if info and UNRECORDED[info.kind] and flags then flags.unrecorded = true end
    return resp, err, info
  end
  return context.new(problem, {task = st.task, models = models or st.cfg.models, opts = st.cfg,
    accuracy = st.accuracy, chat = noted})
end

-- Why the run stops before its end: the first signal, or the first failed
-- write or commit (st.failure); nil while it goes on.
local function stopping(st)
  return st.failure or mux.interrupted()
end

local function solve_one(st, problem)
  if stopping(st) then return end
  local flags = {}
  local ctx = new_context(st, problem, nil, flags)
  local t0 = mux.now()
  local decision, err = st.solve(problem, ctx)
  if flags.unrecorded or (stopping(st) and (err or type(decision) ~= "table")) then return end
  local line = results.line(st.task, st.cfg.models, problem, ctx, decision, err)
  line.elapsed_s = math.floor((mux.now() - t0) * 1000 + 0.5) / 1000
  report.add(st.tally, line)
  st.queue[#st.queue + 1] = report.json(line)
  local p = st.progress
  p.done = p.done + 1
  if line.error then p.errors = p.errors + 1 end
end

-- The problems not yet in results.jsonl (lines kept from an earlier run of
-- the same settings are counted in the tally and the progress).
local function remaining(st, problems, kept)
  local done = {}
  for _, line in ipairs(kept) do
    done[line.id] = true
    report.add(st.tally, line)
    if line.error then st.progress.errors = st.progress.errors + 1 end
  end
  local left = {}
  for _, problem in ipairs(problems) do
    if not done[problem.id] then left[#left + 1] = problem end
  end
  return left
end

local function solve_all(st, problems, kept)
  local p = st.progress
  local left = remaining(st, problems, kept)
  p.phase, p.done, p.total, p.started = st.task.name, #problems - #left, #problems, mux.now()
  p.done_before, p.calls_before = p.done, p.calls
  mux.map(left, function(problem) solve_one(st, problem) end,
    {concurrency = st.cfg.concurrency})
end

-- --shard I/N: the problems whose id hashes to share I of N. By id, not by
-- position, so the shares do not depend on --shuffle or on the order of
-- the data file, and N machines cover every problem exactly once. The
-- validation problems are every shard's (the merged store holds their
-- samples once).
local function shard_of(problems, shard)
  if not shard then return problems end
  local mine = {}
  for _, p in ipairs(problems) do
    local h = tonumber(mux.store.hash(tostring(p.id)):sub(1, 8), 16)
    if h % shard.count == shard.index - 1 then mine[#mine + 1] = p end
  end
  return mine
end

-- Waits for the solving task; after a signal or a failed write, RUN.grace_s
-- at most: no problem starts, and the samples of the requests in flight
-- still reach the store (unless it is the store that failed). Returns the
-- solver's error, if it failed.
local function wait_solver(st, solver)
  local deadline
  while not st.solved do
    if stopping(st) then
      deadline = deadline or mux.now() + RUN.grace_s
      if mux.now() >= deadline then return end
    end
    mux.sleep(RUN.poll_s)
  end
  local ok, err = pcall(mux.wait, solver)
  if not ok then return err end
end

local function write_file(path, text)
  local f, err = io.open(path, "w")
  if not f then error("cannot write " .. err, 0) end
  local ok, werr = f:write(text)
  if ok then ok, werr = f:flush() end
  f:close()
  if not ok then error(string.format("cannot write %s: %s", path, werr), 0) end
end

-- Exit status 1 when every problem failed or more than the --max-errors share.
local function check_errors(summary, max_errors)
  local c = summary.counts
  if c.total == 0 or (c.errors < c.total and c.errors <= max_errors * c.total) then return end
  local first = summary.errors and summary.errors[1] and summary.errors[1].message or "?"
  local what = c.errors == c.total and string.format("all %d problems failed", c.total)
    or string.format("%d of %d problems failed (more than --max-errors %g)", c.errors, c.total, max_errors)
  error(string.format("%s; the first error: %s", what, first), 0)
end

local function finish(st, meta, quiet)
  meta.wall_s = math.floor((mux.now() - st.t0) * 1000 + 0.5) / 1000
  meta.calls = st.progress.calls
  meta.host_stats = mux.stats and mux.stats() or nil
  local summary = report.summary(st.tally, meta)
  local signal = mux.interrupted()
  if signal then
    summary.interrupted = {signal = signal, done = st.tally.total, total = st.problems,
      phase = st.progress.phase}
  end
  local batch = mux.batch_stats()
  if batch then
    summary.batch_out = {requests = batch.requests, samples = batch.samples, files = batch.files}
  end
  write_file(meta.out .. "/summary.json", report.encode_pretty(summary))
  if not quiet then
    local ok, err = io.write(report.table(summary))
    if ok then ok, err = io.stdout:flush() end
    if not ok then error("cannot write the table to stdout: " .. tostring(err), 0) end
  end
  return summary
end

-- The settings that make results.jsonl lines comparable: a run resumes the
-- lines of an earlier one only if they agree (not on how it runs: offline,
-- concurrency, quiet, out).
local function identity(cfg, cli)
  local rec = settings.record(cfg, cli)
  rec.offline, rec.concurrency, rec.quiet, rec.out = nil, nil, nil, nil
  rec.shard = cli.shard
  return report.encode_pretty(rec)
end

-- --batch-out: what was written, and what to do next; the problems it
-- deferred are not in results.jsonl, so the next run does them.
local function batch_done(summary, batch, out)
  if batch.error then error(batch.error, 0) end
  local files = #batch.files > 0 and table.concat(batch.files, ", ") or "(nothing missing: no file)"
  notice(string.format("--batch-out: %d request lines for %d samples in %s; %d problems could be "
    .. "done from the store (%s/results.jsonl). Submit the file(s) to the provider's batch API, "
    .. "then: slmmux store import-batch OUTPUT..., and run the same command again (without "
    .. "--batch-out, or with it to write what a later step of the policy still needs)",
    batch.requests, batch.samples, files, summary.counts.total, out))
  return summary
end

--- Runs a recipe (see the header) and returns its summary (as summary.json).
-- cli defaults to mux.cli: {limit, out, concurrency, shuffle, seed, offline,
-- quiet, max_errors, overrides = {key = "value"}, recipe = path}.
--
-- With --out DIR holding an earlier run of the same settings, the problems
-- already in DIR/results.jsonl are kept (a torn last line is cut off and
-- its problem runs again). After SIGINT/SIGTERM no problem starts; those in
-- flight get RUN.grace_s; summary.json is written with "interrupted" and
-- the run raises an interruption (exit status 128 + the signal). A failed
-- write or store commit stops the run the same way, as a runtime failure.
function M.run(recipe, cli)
  if type(recipe) ~= "table" then error("slmmux.run: expected a recipe table", 2) end
  cli = cli or mux.cli or {}
  local cfg = settings.configure(recipe, cli)
  local task = tasks.resolve(cfg.task, {boxed = cfg.boxed})
  local solve, policy = choose_policy(cfg, recipe, cli)
  warn_settings(cfg, policy)
  local problems, val_problems, path = problems_of.select(cfg, task)
  problems = shard_of(problems, cli.shard)
  local source, endpoints = backend.choose(cfg, cli)
  local quiet = cfg.quiet or cli.quiet
  local st = {cfg = cfg, task = task, solve = solve, accuracy = cfg.accuracy, queue = {},
    problems = #problems,
    tally = report.tally(cfg.models), t0 = mux.now(),
    progress = {phase = task.name, done = 0, total = #problems, in_flight = 0, calls = 0,
      tokens = 0, errors = 0, started = mux.now(), running = true,
      every_s = cli.progress_every}}
  function st.fail(err) st.failure = st.failure or err end
  st.chat = backend.chat_for(source, task, cfg, st.progress)
  local out = results.out_dir(cfg, task.name, policy)
  local kept = results.resume(out, identity(cfg, cli))
  local meta = {task = task.name, data = path, policy = policy, backend = source,
    endpoints = endpoints, out = out, prices = cfg.prices,
    sim_profiles = source == "sim" and backend.sim_profiles(cfg) or nil,
    config = settings.record(cfg, cli), started_at = os.date("!%Y-%m-%dT%H:%M:%SZ")}
  local shown = not cli.quiet and mux.spawn(report.progress, st.progress)
  local written = mux.spawn(results.writer, st, out .. "/results.jsonl")
  local solver = mux.spawn(function()
    local ok, e = pcall(function()
      if val_problems then
        st.accuracy, meta.validation = validation.run(st, val_problems,
          function(problem, models) return new_context(st, problem, models) end)
      end
      if not stopping(st) then solve_all(st, problems, kept) end
    end)
    st.solved = true
    if not ok then error(e, 0) end
  end)
  local err = wait_solver(st, solver)
  st.done, st.progress.running = true, false
  mux.wait(written)
  if shown then mux.wait(shown) end
  if st.failure then error(st.failure, 0) end
  if err then error(err, 0) end
  meta.accuracy = st.accuracy
  meta.label = label_of(cfg, recipe, policy, solve, st.accuracy)
  local summary = finish(st, meta, quiet)
  local signal = mux.interrupted()
  if signal then
    errors.interrupted(string.format("interrupted by %s: %d of %d problems done, every sample "
      .. "received is in the store; summary.json says \"interrupted\". To finish: the same "
      .. "command with --out %s", signal, st.tally.total, st.problems, out))
  end
  local batch = mux.batch_stats()
  if batch then return batch_done(summary, batch, out) end
  check_errors(summary, cli.max_errors or RUN.max_errors)
  return summary
end

return M
