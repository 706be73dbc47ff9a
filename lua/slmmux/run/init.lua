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

local function new_context(st, problem, models)
  return context.new(problem, {task = st.task, models = models or st.cfg.models, opts = st.cfg,
    accuracy = st.accuracy_for(problem), seed = st.seed, chat = st.chat(problem)})
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

local function solve_one(st, problem)
  local ctx = new_context(st, problem)
  local t0 = mux.now()
  local decision, err = st.solve(problem, ctx)
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

local function solve_all(st, problems)
  local p = st.progress
  p.phase, p.done, p.total, p.started = st.task.name, 0, #problems, mux.now()
  p.calls_before = p.calls
  mux.map(problems, function(problem) solve_one(st, problem) end,
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

local function write_summary(st, meta)
  local summary = report.summary(st.tally, meta)
  local f = assert(io.open(meta.out .. "/summary.json", "w"))
  f:write(report.encode_pretty(summary))
  f:close()
  return summary
end

local function finish(st, meta, o)
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
  local summary = write_summary(st, meta)
  if not st.cfg.quiet then io.write(report.table(summary)) io.flush() end
  -- figures and report.html (slmmux.analysis.runreport): never a run's failure
  local drawn, err = pcall(require("slmmux.analysis.runreport").write, meta.out, summary)
  if not drawn then notice("figures and report.html not written: " .. tostring(err)) end
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
-- overrides = {key = "value"}, recipe = path}.
function M.run(recipe, cli)
  if type(recipe) ~= "table" then error("slmmux.run: expected a recipe table", 2) end
  cli = cli or mux.cli or {}
  local started_at = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local cfg, sources = settings.configure(recipe, cli)
  local task, plain = resolve_task(cfg, sources)
  local solve, policy = choose_policy(cfg, recipe, cli)
  local sel = problems_of.select(cfg, task)
  local source, endpoints = backend.choose(cfg, cli)
  local st = new_state(cfg, task, solve)
  st.plain, st.progress.total = plain, #sel.problems
  st.chat = observing(st, backend.chat_for(source, task, cfg, st.progress))
  sanity.before(st.checks, {policy = policy, sel = sel})
  st.seed = backend.request_seed(cfg, recipe, cli)
  local out = results.out_dir(cfg, task.name, policy)
  local config = settings.record(cfg, cli)
  local o = {cfg = cfg, config = config, sources = sources, task = task, sel = sel,
    endpoints = endpoints, served = st.seen.served, started_at = started_at,
    candidates = sel.records - (sel.validation and not sel.validation.path
      and #sel.validation.problems or 0)}
  local meta = {task = task.name, data = sel.path, policy = policy, backend = source,
    endpoints = manifest.build_endpoints(endpoints), out = out, prices = cfg.prices,
    sim_profiles = source == "sim" and backend.sim_profiles(cfg) or nil,
    config = config, started_at = started_at}
  local shown = mux.spawn(report.progress, st.progress)
  local written = mux.spawn(results.writer, st, out .. "/results.jsonl")
  local ok, err = pcall(function()
    measure(st, validation_plan(cfg, sel), meta)
    solve_all(st, sel.problems)
  end)
  st.done, st.progress.running = true, false
  mux.wait(written)
  mux.wait(shown)
  if not ok then error(err, 0) end
  meta.accuracy = st.accuracy
  meta.label = label_of(cfg, recipe, policy, solve, st.accuracy)
  return finish(st, meta, o)
end

return M
