-- The runner, `mux.run(recipe)`: the mechanics every recipe shares, so that
-- a recipe only states its policy. Its parts, each in this folder:
--   settings.lua    the recipe's fields, their defaults (the task's), -s coercion
--   problems.lua    which problems are evaluated, and which validate
--   backend.lua     endpoints or the simulator, and the chat every request uses
--   validation.lua  the tie-break accuracies (another file, or cross-fitted)
--   context.lua     the ctx a policy gets for one problem
--   results.lua     results.jsonl and its writer
--   sanity.lua      the checks printed once per run and kept in summary.json
--   manifest.lua    what summary.json records to rerun the run
-- and slmmux.report for summary.json, the table and the progress line.
--
-- `solve = function(problem, ctx)` is the recipe's own implementation of
-- `policy`; -s policy=NAME switches to the registered policy NAME
-- (slmmux.policies) instead.
--
-- Every problem of the data is evaluated unless --limit says otherwise.
-- validation (settings.lua lists its forms): before the run, each model
-- answers the validation problems; its accuracy there breaks SLM-MUX
-- confidence ties (and picks the model of policy `single`). The task says
-- where they come from by default: MATH and GSM8K from their training
-- splits, GPQA and HumanEval by cross-fitting on the evaluated problems.
-- Without validation, `accuracy = {[model] = acc}` is used, else model order.
--
-- compat = "reference" scores as the SLM-MUX reference code does
-- (slmmux.tasks.compat); each line then also says whether the same selected
-- sample is right by slmmux's own extraction and equivalence
-- (correct_equivalence), and summary.json "compat" gives both accuracies.
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
local manifest = require "slmmux.run.manifest"
local policies = require "slmmux.policies"
local problems_of = require "slmmux.run.problems"
local report = require "slmmux.report"
local results = require "slmmux.run.results"
local sanity = require "slmmux.run.sanity"
local settings = require "slmmux.run.settings"
local tasks = require "slmmux.tasks"
local validation = require "slmmux.run.validation"
local cjson = require "cjson"

local mux = require "slmmux"

local M = {}

M.configure = settings.configure

local function notice(msg)
  io.stderr:write("slmmux: ", msg, "\n")
end

-- The solve function and the policy's name: the recipe's own solve, unless
-- -s policy=NAME asks for a registered one.
local function choose_policy(cfg, recipe, cli)
  local overridden = cli.overrides and cli.overrides.policy ~= nil
  if recipe.solve and not overridden then
    if type(recipe.solve) ~= "function" then errors.usage("recipe: 'solve' must be a function") end
    return recipe.solve, cfg.policy
  end
  local policy, err = policies.get(cfg.policy)
  if not policy then errors.usage(string.format("-s policy=%s: %s", cfg.policy, err)) end
  return policy.solve, cfg.policy
end

local function label_of(cfg, recipe, policy, solve, accuracy)
  if solve == recipe.solve and recipe.name then return recipe.name end
  return policies.label(policy, cfg, accuracy)
end

-- A task table of a recipe's own without configure() has its prompts and
-- scoring built in: an explicit prompts or compat could not apply.
local function resolve_task(cfg, sources)
  local opts = {boxed = cfg.boxed, prompts = cfg.prompts, compat = cfg.compat}
  if type(cfg.task) == "table" and type(cfg.task.configure) ~= "function" then
    local name = tostring(cfg.task.name)
    if sources.prompts ~= "default" then
      errors.usage(string.format("prompts=%s: task '%s' builds its own prompts", cfg.prompts, name))
    end
    if cfg.compat then
      errors.usage(string.format("compat=%s: only the built-in tasks math, gsm8k and gpqa have "
        .. "the reference's scoring, not task '%s'", cfg.compat, name))
    end
  end
  local task = tasks.resolve(cfg.task, opts)
  local plain = cfg.compat and tasks.resolve(cfg.task, {boxed = cfg.boxed, prompts = cfg.prompts})
  return task, plain
end

-- A response holding the first n of held's samples, as from the store.
local function prefix(held, n)
  local choices = {}
  for i = 1, n do
    local c = held.choices[i]
    choices[i] = {text = c.text, finish_reason = c.finish_reason, cached = true}
  end
  local u = held.usage or {}
  return {choices = choices, model = held.model, attempts = 0, latency_ms = 0, cached = n,
    usage = {prompt_tokens = u.prompt_tokens or 0,
      completion_tokens = math.floor((u.completion_tokens or 0) * n / #held.choices + 0.5)}}
end

local function memo_key(req)
  return table.concat({req.model, cjson.encode(req.messages), tostring(req.temperature),
    tostring(req.top_p), tostring(req.max_tokens)}, "\0")
end

-- The chat every request of the run goes through: it notes what the sanity
-- checks and the manifest need (a request that carried a seed, the model
-- each server says it served) and, while st.memo is kept, answers a request
-- for samples already received for the same problem and prompt from memory:
-- crossfit's validation samples are the evaluation's first ones, and
-- without a store they would otherwise be requested twice.
local function observing(st, chat_for)
  return function(problem)
    local chat = chat_for(problem)
    return function(req)
      if req.seed ~= nil then st.seen.seeded = true end
      local memo = st.memo and st.memo[problem]
      local key = memo and memo_key(req)
      local held = memo and memo[key]
      if held and (req.n or 1) <= #held.choices then return prefix(held, req.n or 1) end
      local resp, err, info = chat(req)
      if resp and resp.model then
        local served = st.seen.served[req.model] or {}
        served[resp.model] = (served[resp.model] or 0) + 1
        st.seen.served[req.model] = served
      end
      if resp and st.memo and st.recording and #(resp.choices or {}) > 0 then
        memo = st.memo[problem] or {}
        memo[key or memo_key(req)] = resp
        st.memo[problem] = memo
      end
      return resp, err, info
    end
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
    accuracy = st.accuracy_for(problem), seed = st.seed, chat = noted})
end

-- compat: is the selected sample right by slmmux's own extraction and
-- equivalence? The sample is the first of the selected model (else of any
-- model) whose reference-extracted answer is the decision's.
local function equivalence_verdict(st, problem, ctx, decision)
  if type(decision) ~= "table" or decision.answer == nil or decision.answer == false then
    return false
  end
  local order = {decision.model}
  for _, m in ipairs(st.cfg.models) do order[#order + 1] = m end
  for _, m in ipairs(order) do
    for _, c in ipairs(ctx.records[m] and ctx.records[m].calls or {}) do
      if c.answer == decision.answer then
        local a = st.plain.extract(c.text, problem)
        return a ~= nil and st.plain.score(a, problem) == true
      end
    end
  end
  return false
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
  if st.plain and not line.error then
    line.correct_equivalence = equivalence_verdict(st, problem, ctx, decision)
    if line.correct_equivalence then st.compat_right = st.compat_right + 1 end
  end
  if st.memo then st.memo[problem] = nil end
  report.add(st.tally, line)
  sanity.add(st.checks, line)
  st.queue[#st.queue + 1] = results.encode(line)
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

local function span(offset, n) return string.format("records %d-%d", offset + 1, offset + n) end

-- What validation.run measures on, and the line that says so; nil for none.
local function validation_plan(cfg, sel)
  local v = cfg.validation
  if not v then return nil end
  local plan = {kind = v.kind, samples = v.samples, folds = v.folds}
  if v.kind == "crossfit" then
    plan.problems = sel.problems
    plan.source = string.format("%d-fold cross-fitting on the %d evaluated problems (each "
      .. "problem's tie-break accuracies are measured on the other folds)", v.folds, #sel.problems)
  else
    plan.problems = sel.validation.problems
    local n = #plan.problems
    plan.source = v.kind == "data"
      and string.format("%s, %s (%d problems)", sel.validation.path, span(v.offset, n), n)
      or string.format("%s of %s, held out of the evaluation", span(v.offset, n), sel.path)
  end
  return plan
end

local function measure(st, plan, meta)
  local cfg = st.cfg
  if not plan then
    st.accuracy = cfg.accuracy
    st.accuracy_for = function() return cfg.accuracy end
    meta.validation = {kind = "none",
      source = cfg.accuracy and "accuracies given in the settings" or "none: ties go to model order"}
    return
  end
  notice(string.format("validation: %s; %d sample%s per model and problem", plan.source,
    plan.samples, plan.samples > 1 and "s" or ""))
  st.recording = plan.kind == "crossfit"
  st.memo = st.recording and {} or nil
  st.accuracy, st.accuracy_for, meta.validation = validation.run(st, plan,
    function(problem, models) return new_context(st, problem, models) end)
  st.recording = false
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

local function finish(st, meta, o, quiet)
  meta.wall_s = math.floor((mux.now() - st.t0) * 1000 + 0.5) / 1000
  meta.calls = st.progress.calls
  meta.host_stats = mux.stats and mux.stats() or nil
  if st.plain then
    meta.compat = {scoring = "reference", accuracy = report.accuracy(st.tally.correct, st.tally.scored),
      equivalence = report.accuracy(st.compat_right, st.tally.scored)}
  end
  sanity.after(st.checks, {sources = o.sources, backend = meta.backend, seeded = st.seen.seeded,
    candidates = o.candidates})
  meta.checks = sanity.findings(st.checks)
  o.ended_at = os.date("!%Y-%m-%dT%H:%M:%SZ")
  meta.manifest = manifest.build(o)
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
  -- figures and report.html (slmmux.analysis.runreport): never a run's failure
  local drawn, derr = pcall(require("slmmux.analysis.runreport").write, meta.out, summary)
  if not drawn then notice("figures and report.html not written: " .. tostring(derr)) end
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

local function new_state(cfg, task, solve)
  return {cfg = cfg, task = task, solve = solve, queue = {}, compat_right = 0,
    tally = report.tally(cfg.models), t0 = mux.now(), checks = sanity.new(cfg),
    seen = {seeded = false, served = {}}, accuracy_for = function() return nil end,
    progress = {phase = task.name, done = 0, total = 0, in_flight = 0, calls = 0,
      tokens = 0, errors = 0, started = mux.now(), running = true}}
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
  local started_at = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local cfg, sources = settings.configure(recipe, cli)
  local task, plain = resolve_task(cfg, sources)
  local solve, policy = choose_policy(cfg, recipe, cli)
  local sel = problems_of.select(cfg, task)
  sel.problems = shard_of(sel.problems, cli.shard)
  local source, endpoints = backend.choose(cfg, cli)
  local quiet = cfg.quiet or cli.quiet
  local st = new_state(cfg, task, solve)
  st.plain, st.progress.total, st.problems = plain, #sel.problems, #sel.problems
  st.progress.every_s = cli.progress_every
  function st.fail(e) st.failure = st.failure or e end
  st.chat = observing(st, backend.chat_for(source, task, cfg, st.progress))
  sanity.before(st.checks, {policy = policy, sel = sel})
  st.seed = backend.request_seed(cfg, recipe, cli)
  local out = results.out_dir(cfg, task.name, policy)
  local kept = results.resume(out, identity(cfg, cli))
  local config = settings.record(cfg, cli)
  local o = {cfg = cfg, config = config, sources = sources, task = task, sel = sel,
    endpoints = endpoints, served = st.seen.served, started_at = started_at,
    git = manifest.start_git(mux.home),
    candidates = sel.records - (sel.validation and not sel.validation.path
      and #sel.validation.problems or 0)}
  local meta = {task = task.name, data = sel.path, policy = policy, backend = source,
    endpoints = manifest.build_endpoints(endpoints), out = out, prices = cfg.prices,
    sim_profiles = source == "sim" and backend.sim_profiles(cfg) or nil,
    config = config, started_at = started_at}
  local shown = not cli.quiet and mux.spawn(report.progress, st.progress)
  local written = mux.spawn(results.writer, st, out .. "/results.jsonl")
  local solver = mux.spawn(function()
    local ok, e = pcall(function()
      measure(st, validation_plan(cfg, sel), meta)
      if not stopping(st) then solve_all(st, sel.problems, kept) end
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
  local summary = finish(st, meta, o, quiet)
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
