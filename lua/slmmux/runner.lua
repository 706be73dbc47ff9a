-- The runner: the mechanics every recipe shares (settings, problems,
-- backend, concurrency, results, summary), so that a recipe only states its
-- policy. `mux.run(recipe)` is run() here. Recipe fields and their defaults
-- are SETTINGS below; a recipe may add fields of its own (e.g. lambda), which
-- -s can then override too. `solve = function(problem, ctx)` is the recipe's
-- own implementation of `policy`; -s policy=NAME switches to the built-in
-- policy NAME (slmmux.policies) instead.
--
-- Precedence: SETTINGS defaults < recipe < -s key=value < --limit, --out,
-- --concurrency, --seed, --shuffle.
--
-- validation = {limit = N, offset = 0 [, data = path]} (or just N): before the
-- run, each model answers those problems once; its accuracy there breaks
-- SLM-MUX confidence ties (and picks the model of policy `single`). Without
-- `data`, the validation problems are the records offset+1..offset+N of the
-- run's own data and are left out of the evaluated problems. Without
-- validation, `accuracy = {[model] = acc}` is used, else model order.
--
-- A dataset of your own is one task table, e.g. in the recipe file itself:
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
--     -- only for the simulator: how an answer is stated, the j-th wrong answer
--     answer_text = function(a) return "Answer: " .. a end,
--     near_miss = function(p, j) return p.reference .. " " .. j end,
--   }
--   return mux.run{task = trivia, data = "trivia.jsonl", models = {"m1", "m2"}}
local cjson = require "cjson"
local data = require "slmmux.data"
local policies = require "slmmux.policies"
local report = require "slmmux.report"
local sim = require "slmmux.sim"
local tasks = require "slmmux.tasks"

local mux = require "slmmux"

local M = {}

-- Every setting, its kind (what -s coerces to) and default, in one place.
local SETTINGS = {
  task = {"task", "math"},          -- a built-in task name or a task table
  data = {"string"},                -- default: the task's default_data
  models = {"list"},
  policy = {"string", "slm_mux"},
  samples = {"integer", 3},         -- k, per model and problem
  temperature = {"number", 0.3},
  top_p = {"number"},
  max_tokens = {"integer", 2048},
  early_exit = {"boolean", false},
  boxed = {"string", "last"},       -- MATH: which \boxed{} is the answer
  concurrency = {"integer", 64},    -- problems in flight
  limit = {"integer"},
  shuffle = {"boolean", false},
  seed = {"integer", 0},            -- shuffle order and simulator
  out = {"string"},
  backend = {"string", "auto"},     -- auto | api | sim
  validation = {"validation"},
  accuracy = {"table"},             -- {[model] = validation accuracy}
  prices = {"table"},               -- {[model] = {input =, output =}} in $/Mtok
  profiles = {"table"},             -- extra simulator profiles {[model] = profile}
  quiet = {"boolean", false},       -- no table on stdout
}

local BACKENDS = {auto = true, api = true, sim = true}

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

local function kind_of(v)
  local t = type(v)
  if t == "table" then return type(v[1]) == "string" and "list" or "table" end
  if math.type(v) == "integer" then return "integer" end
  return t
end

local function fits(v, kind)
  if kind == "list" then return type(v) == "table"
  elseif kind == "task" then return type(v) == "string" or type(v) == "table"
  elseif kind == "validation" then return v == false or type(v) == "table" or type(v) == "number"
  elseif kind == "integer" then return math.type(v) == "integer" or (type(v) == "number" and v % 1 == 0)
  end
  return type(v) == kind
end

local BOOLEANS = {["true"] = true, yes = true, on = true, ["1"] = true,
  ["false"] = false, no = false, off = false, ["0"] = false}

-- -s key=value: the value's type is the kind of the setting it replaces.
local function coerce(key, text, kind)
  if kind == "string" or kind == "task" then return text end
  if kind == "number" or kind == "integer" or kind == "validation" then
    local v = tonumber(text)
    if not v or (kind ~= "number" and v % 1 ~= 0) then
      fail("-s %s=%s: expected %s", key, text, kind == "number" and "a number" or "an integer")
    end
    return math.tointeger(v) or v
  end
  if kind == "boolean" then
    local v = BOOLEANS[text:lower()]
    if v == nil then fail("-s %s=%s: expected true or false", key, text) end
    return v
  end
  if kind == "list" then
    local list = {}
    for item in text:gmatch("[^,]+") do
      item = item:match("^%s*(.-)%s*$")
      if item ~= "" then list[#list + 1] = item end
    end
    return list
  end
  fail("-s %s: a table cannot be set with -s; set it in the recipe", key)
end

local function valid_keys(recipe)
  local keys = {}
  for k in pairs(SETTINGS) do keys[#keys + 1] = k end
  for k, v in pairs(recipe) do
    if SETTINGS[k] == nil and type(k) == "string" and type(v) ~= "function" then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys)
  return keys
end

local function kind_for(recipe, key)
  if SETTINGS[key] then return SETTINGS[key][1] end
  local v = recipe[key]
  if v ~= nil and type(v) ~= "function" then return kind_of(v) end
end

local function apply_overrides(cfg, recipe, overrides)
  for key, text in pairs(overrides or {}) do
    local kind = kind_for(recipe, key)
    if not kind then
      fail("-s %s: unknown setting; valid: %s", key, table.concat(valid_keys(recipe), ", "))
    end
    cfg[key] = coerce(key, tostring(text), kind)
  end
end

local function apply_flags(cfg, cli)
  for _, k in ipairs({"limit", "out", "concurrency", "seed"}) do
    if cli[k] ~= nil then cfg[k] = cli[k] end
  end
  if cli.shuffle then cfg.shuffle = true end
end

local function check_models(models)
  if type(models) ~= "table" or #models == 0 then
    fail("recipe: 'models' must list at least one model (or -s models=a,b)")
  end
  local seen = {}
  for i, m in ipairs(models) do
    if type(m) ~= "string" or m == "" then fail("recipe: models[%d] must be a model name", i) end
    if seen[m] then fail("recipe: model '%s' is listed twice", m) end
    seen[m] = true
  end
end

local function check_positive(cfg, keys)
  for _, k in ipairs(keys) do
    if cfg[k] ~= nil and cfg[k] < 1 then fail("'%s' must be at least 1, got %s", k, cfg[k]) end
  end
end

local function normalize_validation(v)
  if not v or v == 0 then return nil end
  if type(v) == "number" then v = {limit = v} end
  if math.type(v.limit) ~= "integer" or v.limit < 1 then
    fail("recipe: validation.limit must be a positive integer")
  end
  return {limit = v.limit, offset = v.offset or 0, data = v.data}
end

local function check(cfg)
  check_models(cfg.models)
  check_positive(cfg, {"samples", "max_tokens", "concurrency"})
  if cfg.limit ~= nil and cfg.limit < 0 then fail("'limit' must not be negative") end
  if cfg.temperature < 0 then fail("'temperature' must not be negative") end
  if not BACKENDS[cfg.backend] then fail("-s backend=%s: expected auto, api or sim", cfg.backend) end
  if cfg.boxed ~= "first" and cfg.boxed ~= "last" then
    fail("-s boxed=%s: expected first or last", cfg.boxed)
  end
  cfg.validation = normalize_validation(cfg.validation)
end

--- The settings of a run: SETTINGS defaults, the recipe, -s overrides and
-- CLI flags, checked. Raises a message naming the offending setting.
function M.configure(recipe, cli)
  local cfg = {}
  for k, s in pairs(SETTINGS) do cfg[k] = s[2] end
  for k, v in pairs(recipe) do
    local kind = SETTINGS[k] and SETTINGS[k][1]
    if kind and not fits(v, kind) then
      fail("recipe: '%s' must be a%s %s, got a %s", k, kind == "integer" and "n" or "", kind, type(v))
    end
    cfg[k] = v
  end
  apply_overrides(cfg, recipe, cli.overrides)
  apply_flags(cfg, cli)
  for k, s in pairs(SETTINGS) do
    if s[1] == "integer" and type(cfg[k]) == "number" then cfg[k] = math.tointeger(cfg[k]) end
  end
  check(cfg)
  return cfg
end

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

-- The evaluated problems and the validation problems (or nil).
local function select_problems(cfg, task)
  local path = find_data(cfg.data or task.default_data
    or fail("task '%s' has no default data: set 'data'", task.name))
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

local function notice(msg)
  io.stderr:write("slmmux: ", msg, "\n")
end

-- "api" when every model has an endpoint, "sim" when none has (or when asked);
-- a mix is an error, since half-simulated results would mean nothing.
local function choose_backend(cfg, cli)
  if cfg.backend == "sim" then
    notice("backend=sim: answers come from the built-in simulator (simulated models, not measurements)")
    return "sim"
  end
  local resolve = mux.config and mux.config.resolve
  local endpoints, missing = {}, {}
  for _, m in ipairs(cfg.models) do
    local ep = resolve and resolve(m)
    if ep then endpoints[m] = {name = ep.name, base_url = ep.base_url}
    else missing[#missing + 1] = m end
  end
  if cfg.backend == "api" or cli.offline or #missing == 0 then return "api", endpoints end
  if #missing < #cfg.models then
    fail("no endpoint configured for %s (but for other models there is); configure it, "
      .. "or simulate every model with -s backend=sim", table.concat(missing, ", "))
  end
  notice("no endpoint configured for " .. table.concat(missing, ", ")
    .. "; using the built-in simulator (-s backend=sim)")
  return "sim"
end

local function answers_of(rec)
  local answers = {}
  for i, c in ipairs(rec.calls) do
    if c.answer == nil then answers[i] = false else answers[i] = c.answer end
  end
  return answers
end

local function record_for(ctx, model)
  local rec = ctx.records[model]
  if not rec then
    rec = {model = model, calls = {}, requests = 0, latency_ms = 0,
      usage = {prompt_tokens = 0, completion_tokens = 0}}
    ctx.records[model] = rec
  end
  return rec
end

local function take_response(ctx, rec, resp, k)
  rec.usage.prompt_tokens = rec.usage.prompt_tokens + (resp.usage and resp.usage.prompt_tokens or 0)
  rec.usage.completion_tokens = rec.usage.completion_tokens
    + (resp.usage and resp.usage.completion_tokens or 0)
  rec.latency_ms = rec.latency_ms + (resp.latency_ms or 0)
  local choices = resp.choices or {}
  if #choices < k then
    return nil, string.format("%s: %d of %d samples returned", rec.model, #choices, k)
  end
  local calls = {}
  for i = 1, k do
    local c = choices[i]
    calls[i] = {text = c.text, answer = ctx.task.extract(c.text, ctx.problem),
      finish_reason = c.finish_reason}
  end
  rec.calls = calls   -- a later, larger request repeats the earlier samples
  return rec
end

--- The ctx a policy gets for one problem. o = {task, models, opts, accuracy,
-- chat = function(req) -> resp | nil, err, info} (mux.chat or a stand-in).
-- ctx.sample(model, k) -> record {model, calls = {{text, answer, finish_reason}}}
-- ctx.sample_all(k [, models]) -> {{model =, answers = {...}}...} in model order
-- Both return nil, errmsg when a request failed for good (ctx.error_info says why).
function M.context(problem, o)
  local ctx = {problem = problem, task = o.task, models = o.models, opts = o.opts,
    accuracy = o.accuracy, records = {}}
  local messages

  function ctx.sample(model, k)
    messages = messages or ctx.task.prompt(problem)
    local rec = record_for(ctx, model)
    rec.requests = rec.requests + 1
    local resp, err, info = o.chat({model = model, messages = messages, n = k,
      temperature = o.opts.temperature, top_p = o.opts.top_p, max_tokens = o.opts.max_tokens})
    if not resp then
      ctx.error_info = ctx.error_info or info
      return nil, model .. ": " .. tostring(err)
    end
    return take_response(ctx, rec, resp, k)
  end

  function ctx.sample_all(k, models)
    models = models or ctx.models
    local recs, errs = {}, {}
    if #models == 1 then
      recs[1], errs[1] = ctx.sample(models[1], k)
    else
      local tasks = {}
      for i, m in ipairs(models) do tasks[i] = mux.spawn(ctx.sample, m, k) end
      for i, t in ipairs(tasks) do recs[i], errs[i] = mux.wait(t) end
    end
    local per_model = {}
    for i, m in ipairs(models) do
      if not recs[i] then return nil, errs[i] end
      per_model[i] = {model = m, answers = answers_of(recs[i])}
    end
    return per_model
  end

  return ctx
end

local function model_entry(task, problem, rec)
  local answers = answers_of(rec)
  for _, c in ipairs(rec.calls) do c.correct = c.answer ~= nil and task.score(c.answer, problem) end
  local groups = #answers > 0 and mux.vote.count(answers, {equiv = task.equiv}) or {}
  local votes = {}
  for i, g in ipairs(groups) do votes[i] = {answer = g.answer, count = g.count} end
  local top = groups[1]
  return {model = rec.model, calls = rec.calls, usage = rec.usage, requests = rec.requests,
    latency_ms = rec.latency_ms, votes = top and votes or nil,
    top_answer = top and top.answer, confidence = top and top.count / #answers or 0,
    top_correct = top ~= nil and task.score(top.answer, problem)}
end

local function result_line(st, problem, ctx, decision, err)
  local task = st.task
  local line = {id = problem.id, problem = problem.text, reference = task.reference(problem),
    models = {}}
  for _, m in ipairs(st.cfg.models) do
    if ctx.records[m] then line.models[#line.models + 1] = model_entry(task, problem, ctx.records[m]) end
  end
  if err or type(decision) ~= "table" then
    line.error = tostring(err or "the policy returned no decision")
    line.error_info = ctx.error_info
    line.correct = cjson.null
    return line
  end
  local answer = decision.answer
  if answer == false then answer = nil end
  line.final_answer, line.selected_model = answer, decision.model
  line.confidence, line.reason = decision.confidence, decision.reason
  line.early_exit = decision.early_exit or nil
  line.correct = answer ~= nil and task.score(answer, problem) or false
  return line
end

local function new_context(st, problem, models)
  return M.context(problem, {task = st.task, models = models or st.cfg.models, opts = st.cfg,
    accuracy = st.accuracy, chat = st.chat(problem)})
end

local function solve_one(st, problem)
  local ctx = new_context(st, problem)
  local t0 = mux.now()
  local decision, err = st.solve(problem, ctx)
  local line = result_line(st, problem, ctx, decision, err)
  line.elapsed_s = math.floor((mux.now() - t0) * 1000 + 0.5) / 1000
  report.add(st.tally, line)
  st.queue[#st.queue + 1] = report.json(line)
  local p = st.progress
  p.done = p.done + 1
  if line.error then p.errors = p.errors + 1 end
end

-- Each model answers each validation problem once; errors are left out.
local function validate(st, problems)
  local jobs, right, n, errors, tokens = {}, {}, {}, {}, 0
  for _, m in ipairs(st.cfg.models) do
    right[m], n[m], errors[m] = 0, 0, 0
    for _, p in ipairs(problems) do jobs[#jobs + 1] = {p, m} end
  end
  local p = st.progress
  p.phase, p.done, p.total = "validation", 0, #jobs
  mux.map(jobs, function(job)
    local problem, m = job[1], job[2]
    local ctx = new_context(st, problem, {m})
    local rec = ctx.sample(m, 1)
    local usage = ctx.records[m].usage
    tokens = tokens + usage.prompt_tokens + usage.completion_tokens
    if not rec then errors[m] = errors[m] + 1
    else
      n[m] = n[m] + 1
      local a = rec.calls[1].answer
      if a ~= nil and st.task.score(a, problem) then right[m] = right[m] + 1 end
    end
    p.done = p.done + 1
  end, {concurrency = st.cfg.concurrency})
  local accuracy, detail = {}, {problems = #problems, models = {}, tokens = tokens}
  for _, m in ipairs(st.cfg.models) do
    local a = report.accuracy(right[m], n[m])
    if n[m] > 0 then accuracy[m] = a.value end
    detail.models[#detail.models + 1] = {model = m, accuracy = a, errors = errors[m]}
  end
  return accuracy, detail
end

-- Finished lines wait in st.queue; every 100 ms the writer commits the sample
-- store and only then appends them, so a line never names uncommitted samples.
local function writer(st, path)
  local f = assert(io.open(path, "a"))
  local function flush()
    if #st.queue == 0 then return end
    local lines = st.queue
    st.queue = {}
    mux.commit()
    for _, l in ipairs(lines) do f:write(l, "\n") end
    f:flush()
  end
  while true do
    local finished = st.done
    flush()
    if finished then break end
    mux.sleep(0.1)
  end
  f:close()
end

local function out_dir(cfg, task_name, policy)
  local dir = cfg.out
  if not dir then
    local base = string.format("runs/%s-%s-%s", task_name:gsub("[^%w%._-]", "_"),
      policy:gsub("[^%w%._-]", "_"), os.date("%Y%m%d-%H%M%S"))
    dir = base
    for i = 2, math.huge do
      if not exists(dir .. "/results.jsonl") then break end
      dir = base .. "-" .. i
    end
  end
  if not os.execute("mkdir -p -- " .. data.quote(dir)) then
    fail("cannot create the output directory %s", dir)
  end
  local f, err = io.open(dir .. "/results.jsonl", "w")
  if not f then fail("cannot write %s", err) end
  f:close()
  return dir
end

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

local function config_of(cfg, cli)
  local out = {}
  for k, v in pairs(cfg) do
    if type(v) ~= "function" and k ~= "task" then out[k] = v end
  end
  out.recipe, out.overrides, out.offline = cli.recipe, cli.overrides, cli.offline or nil
  return out
end

local function chat_for(st, backend_sim)
  local p = st.progress
  return function(problem)
    return function(req)
      p.in_flight = p.in_flight + 1
      local resp, err, info
      if backend_sim then resp, err, info = backend_sim:chat(req, problem)
      else resp, err, info = mux.chat(req) end
      p.in_flight, p.calls = p.in_flight - 1, p.calls + 1
      if resp and resp.usage then
        p.tokens = p.tokens + (resp.usage.prompt_tokens or 0) + (resp.usage.completion_tokens or 0)
      end
      return resp, err, info
    end
  end
end

local function sim_profiles(cfg)
  local names = {}
  for _, m in ipairs(cfg.models) do
    local _, name = sim.profile(m, cfg.profiles)
    names[m] = name
  end
  return names
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
  local cfg = M.configure(recipe, cli)
  local task = tasks.resolve(cfg.task, {boxed = cfg.boxed})
  local solve, policy = choose_policy(cfg, recipe, cli)
  warn_settings(cfg, policy)
  local problems, val_problems, path = select_problems(cfg, task)
  local backend, endpoints = choose_backend(cfg, cli)
  local st = {cfg = cfg, task = task, solve = solve, accuracy = cfg.accuracy, queue = {},
    tally = report.tally(cfg.models), t0 = mux.now(),
    progress = {phase = task.name, done = 0, total = #problems, in_flight = 0, calls = 0,
      tokens = 0, errors = 0, started = mux.now(), running = true}}
  st.chat = chat_for(st, backend == "sim" and sim.new(task, {seed = cfg.seed, profiles = cfg.profiles}))
  local out = out_dir(cfg, task.name, policy)
  local meta = {task = task.name, data = path, policy = policy, backend = backend,
    endpoints = endpoints, out = out, prices = cfg.prices,
    sim_profiles = backend == "sim" and sim_profiles(cfg) or nil,
    config = config_of(cfg, cli), started_at = os.date("!%Y-%m-%dT%H:%M:%SZ")}
  local shown = mux.spawn(report.progress, st.progress)
  local written = mux.spawn(writer, st, out .. "/results.jsonl")
  local ok, err = pcall(function()
    if val_problems then st.accuracy, meta.validation = validate(st, val_problems) end
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
