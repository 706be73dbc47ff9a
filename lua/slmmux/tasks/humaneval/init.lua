-- HumanEval (Chen et al. 2021, "Evaluating Large Language Models Trained on
-- Code"): 164 records with `task_id`, `prompt` (imports, helpers and the
-- signature with its docstring), `entry_point`, `canonical_solution` (the
-- body) and `test` (defines check(candidate)). An answer is a program; it is
-- scored by running the hidden test on it in the sandbox (mux.exec), never
-- in this process.
--
-- The verdict is not the candidate's to give (driver.py says how): in the
-- sandbox a trusted judge process runs the hidden test's check() against a
-- stand-in, and the candidate's function runs in a process of its own that
-- gets the arguments of each call and returns its results by value (plain
-- JSON values the judge rebuilds), so the candidate can neither read the
-- expected values or the pass token nor hand check() an object whose __eq__
-- lies. A program passes only when the run exits with status 0 and the last
-- line of its stdout is the judge's verdict "pass" behind a token drawn from
-- /dev/urandom for that run; the token, the prompt's helpers and the test
-- reach the judge on stdin, in no file the candidate could read. The
-- outcome: pass, fail (reason: the exception, or how the candidate's
-- process ended), timeout (the wall clock or the CPU limit, of either
-- process), crash (a signal; the memory limit), truncated (an output flood
-- the sandbox killed).
local cjson = require "cjson"
local data = require "slmmux.data"
local agree = require "slmmux.agree"
local files = require "slmmux.files"
local prompts = require "slmmux.tasks.prompts"

local mux = require "slmmux"

local M = {}

-- The settings a run of this task starts from: k = 5 at T = 0.8, as Chen et
-- al. (2021) sample for pass@k (confidence needs T > 0). HumanEval has no
-- split to spare: tie-break pass rates are cross-fitted on the evaluated
-- problems (each problem's from the other folds).
M.SETTINGS = {
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo"},
  samples = 5, temperature = 0.8, max_tokens = 1024,
  validation = "crossfit",
}

-- The Python program of a test run, beside this file.
local DRIVER = files.read("tasks/humaneval/driver.py")

-- Options of a task and their defaults. Seconds. prompts: the style of
-- tasks/prompts.lua (the reference asks for the body only, slmmux for the
-- whole function; extract takes either).
M.DEFAULTS = {
  prompts = "reference",
  timeout = 10,             -- wall clock of one test run
  cpu = 10,                 -- CPU seconds of one test run
  mem_mb = 1024,
  python = {"python3", "-I"},
  probe_timeout = agree.DEFAULTS.probe_timeout,
  extra_probes = false,     -- function(problem) -> more argument lists ("[1, 2], 3")
}

local FIELDS = {task_id = "string", prompt = "string", entry_point = "string",
  canonical_solution = "string", test = "string"}

-- The signal of the CPU limit: a run killed by it timed out, not crashed.
local SIGXCPU = 24

-- Bytes kept of the run's stdout and stderr: the verdict is one short line
-- on stdout; stderr holds what the candidate printed, for a reader.
local OUT_CAP = 64 * 1024

local function has_def(code, entry_point)
  return ("\n" .. code):find("\n%s*def%s+" .. entry_point .. "%s*%(") ~= nil
end

-- Everything in the prompt before the entry point's def line: its imports
-- and the helper functions the tests may call (e.g. encode_cyclic).
local function preamble(p)
  local at = ("\n" .. p.prompt):find("\ndef%s+" .. p.entry_point .. "%s*%(")
  return at and p.prompt:sub(1, at - 1) or ""
end

-- A reply without the def line is a body: under the prompt, indented.
local function complete_body(code, p)
  local first = code:match("[^\n]*%S[^\n]*")
  if first and not first:match("^%s") then
    code = ("\n" .. code):gsub("\n", "\n    "):sub(2)
  end
  return p.prompt .. code
end

local function last_line(s)
  s = s:gsub("%s+$", "")
  return s:match("([^\n]*)$")
end

-- The exception a failing run ended with (the last line of a traceback).
local function exception_of(stderr)
  local line = last_line(stderr or "")
  local name = line:match("^([%a_][%w_%.]*):") or line:match("^([%a_][%w_%.]*)$")
  return name and #name <= 80 and name or "exit"
end

-- The judge's verdict: the last line of stdout, behind the run's token.
local function verdict_of(r, token)
  local line = last_line(r.stdout)
  if line:sub(1, #token + 1) ~= token .. " " then return nil end
  local ok, v = pcall(cjson.decode, line:sub(#token + 2))
  if not ok or type(v) ~= "table" or type(v[1]) ~= "string" then return nil end
  local reason = v[2]
  return v[1], type(reason) == "string" and reason or nil
end

local function classify(r, token)
  if r.status == "error" then
    error("humaneval: the sandbox could not run a program: " .. tostring(r.message), 0)
  end
  local outcome, reason = verdict_of(r, token)
  if outcome == "pass" and r.status == "exited" and r.code == 0 then return "pass" end
  -- a limit of the sandbox's ended the run: the judge had no last word
  if r.limit == "wall" or r.status == "timeout" then return "timeout", "wall clock" end
  if r.limit == "cpu" then return "timeout", "cpu limit" end
  if r.limit == "output" then return "truncated", "output flood" end
  if r.limit == "memory" or (outcome == "crash" and (r.oom_kills or 0) > 0) then
    return "crash", "memory limit"
  end
  if outcome == "error" then error("humaneval: the judge could not judge: " .. tostring(reason), 0) end
  if outcome == "fail" or outcome == "timeout" or outcome == "crash" then return outcome, reason end
  -- no verdict: the judge itself ended
  if r.status == "signaled" then
    if r.signal == SIGXCPU then return "timeout", "cpu limit (signal " .. r.signal .. ")" end
    return "crash", "signal " .. tostring(r.signal)
  end
  return "fail", "no verdict (" .. exception_of(r.stderr) .. ")"
end

---------------------------------------------------------------------------
-- pass@k

--- The unbiased estimator of pass@k from n samples of which c passed
-- (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), computed as a product,
-- 1 - prod_{i=n-c+1..n} (1 - k/i), so that no binomial overflows.
function M.pass_at_k(n, c, k)
  if math.type(n) ~= "integer" or math.type(c) ~= "integer" or math.type(k) ~= "integer"
    or n < 1 or c < 0 or c > n or k < 1 or k > n then
    error("humaneval.pass_at_k: need integers 0 <= c <= n, 1 <= k <= n", 2)
  end
  if n - c < k then return 1.0 end
  local prod = 1.0
  for i = n - c + 1, n do prod = prod * (1 - k / i) end
  return 1.0 - prod
end

---------------------------------------------------------------------------
-- The task

local function add_probes(probes, extra)
  local seen = {}
  for _, a in ipairs(probes) do seen[a] = true end
  for _, a in ipairs(extra or {}) do
    if type(a) ~= "string" then error("tasks.humaneval: extra_probes must return strings", 0) end
    if not seen[a] then probes[#probes + 1], seen[a] = a, true end
  end
end

local function options(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if M.DEFAULTS[k] == nil and k ~= "boxed" and k ~= "compat" then
      error("tasks.humaneval: unknown option '" .. tostring(k) .. "'", 3)
    end
    o[k] = v
  end
  return o
end

-- Memoized per key: the first caller runs fn as a task; every caller
-- (concurrent ones included) waits for that task's result.
local function once(cache, key, fn, ...)
  local t = cache[key]
  if not t then
    t = mux.spawn(fn, ...)
    cache[key] = t
  end
  return mux.wait(t)
end

--- A HumanEval task. opts (see DEFAULTS): prompts, timeout, cpu, mem_mb,
-- python, probe_timeout, extra_probes. The runner passes {boxed = ...},
-- ignored; compat is refused by t.configure.
function M.new(opts)
  local o = options(opts)
  local template = prompts.template(o.prompts, "humaneval")
  local t = {name = "humaneval", default_data = "data/HumanEval.jsonl.gz",
    settings = M.SETTINGS, template = template,
    description = "HumanEval Python functions, scored by their hidden tests in the sandbox"}

  --- The runner's options for a task a recipe made itself (-s prompts=...).
  function t.configure(run_opts)
    if run_opts.compat ~= nil then
      error("compat=" .. tostring(run_opts.compat) .. " does not apply to humaneval: the "
        .. "reference scores programs by running the tests too", 0)
    end
    if run_opts.prompts then
      template = prompts.template(run_opts.prompts, "humaneval")
      t.template = template
    end
  end
  if o.compat ~= nil then t.configure({compat = o.compat}) end
  local outcomes, sigs, by_source, probe_sets = {}, {}, {}, {}
  t.stats = {test_runs = 0, probe_runs = 0, sandbox_errors = 0, exec_wall_ms = 0, exec_cpu_ms = 0,
    outcomes = {pass = 0, fail = 0, timeout = 0, crash = 0, truncated = 0}}

  local function count(r, kind)
    t.stats[kind] = t.stats[kind] + 1
    if r.status == "error" then t.stats.sandbox_errors = t.stats.sandbox_errors + 1 end
    t.stats.exec_wall_ms = t.stats.exec_wall_ms + (r.wall_ms or 0)
    t.stats.exec_cpu_ms = t.stats.exec_cpu_ms + (r.cpu_ms or 0)
  end

  function t.load(path)
    local problems = data.load(path, {fields = FIELDS})
    for _, p in ipairs(problems) do
      if not p.entry_point:match("^[%a_][%w_]*$") then
        data.bad_record(path, p, "entry_point '%s' is not a Python identifier", p.entry_point)
      end
      p.id, p.text = p.task_id, p.prompt
      p.reference = p.prompt .. p.canonical_solution
      p.probes = agree.probes(p.prompt, p.entry_point)
      if o.extra_probes then add_probes(p.probes, o.extra_probes(p)) end
    end
    return problems
  end

  function t.prompt(p) return prompts.messages(template, {problem = p.prompt}) end

  --- The program of a reply: its code block defining entry_point; a bare
  -- body goes under the prompt.
  function t.extract(text, p)
    if text == nil then return nil end
    local code = mux.extract.code(text, p.entry_point)
    if code == nil then return nil end
    if not has_def(code, p.entry_point) then code = complete_body(code, p) end
    return code
  end

  --- The source that runs: the prompt's imports and helpers, then the code.
  function t.source(code, p)
    local pre = preamble(p)
    if pre == "" or code:sub(1, #pre) == pre then return code end
    return pre .. "\n" .. code
  end

  local function run_test(code, p)
    local token = agree.token()
    local argv = {}
    for i, a in ipairs(o.python) do argv[i] = a end
    argv[#argv + 1] = "driver.py"
    -- what only the judge may see goes on stdin, read before the candidate starts
    local judge = cjson.encode({token = token, helpers = preamble(p), test = p.test,
      entry_point = p.entry_point})
    local r = agree.exec({argv = argv, stdin = judge, wall = o.timeout, cpu = o.cpu,
      mem_mb = o.mem_mb, out_cap = OUT_CAP,
      files = {["driver.py"] = DRIVER, ["prog.py"] = t.source(code, p)}},
      function(run) count(run, "test_runs") end)
    local outcome, reason = classify(r, token)
    t.stats.outcomes[outcome] = t.stats.outcomes[outcome] + 1
    return {outcome = outcome, reason = reason, wall_ms = r.wall_ms}
  end

  --- {outcome = "pass"|"fail"|"timeout"|"crash"|"truncated", reason =, wall_ms =} of
  -- a program on the hidden test; one sandbox run per distinct program.
  function t.outcome(code, p)
    if type(code) ~= "string" then error("humaneval.outcome: code must be a string", 2) end
    return once(outcomes, p.id .. "\0" .. code, run_test, code, p)
  end

  function t.score(answer, p)
    return answer ~= nil and answer ~= false and t.outcome(answer, p).outcome == "pass"
  end

  function t.reference(p) return p.reference end

  --- Runs the hidden test on every sample of ctx (all at once) and marks
  -- each call with its outcome and detail (the exception, the signal) for
  -- results.jsonl. For a recipe's solve, after its decision: selection never
  -- sees these. The runner's own scoring then finds them memoized.
  function t.annotate(ctx)
    local calls = {}
    for _, rec in pairs(ctx.records) do
      for _, c in ipairs(rec.calls) do
        if c.answer ~= nil and c.answer ~= false then calls[#calls + 1] = c end
      end
    end
    mux.map(calls, function(c)
      local r = t.outcome(c.answer, ctx.problem)
      c.outcome, c.detail = r.outcome, r.reason
    end)
  end

  local agree_opts = {probe_timeout = o.probe_timeout, python = o.python, mem_mb = o.mem_mb,
    on_run = function(r) count(r, "probe_runs") end}

  local function make_probes(p, variants)
    local list = {}
    for i, a in ipairs(p.probes) do list[i] = a end
    local more, err = agree.variants(p.probes, variants, agree_opts)
    if not more then error("humaneval: " .. p.id .. ": " .. err, 0) end
    add_probes(list, more)
    return list
  end

  --- The probe inputs of p: its docstring's, and `variants` variants of
  -- each (agree.variants; one sandbox run per problem, remembered).
  function t.probes(p, variants)
    variants = variants or 0
    if variants == 0 then return p.probes end
    return once(probe_sets, p.id .. "\0" .. variants, make_probes, p, variants)
  end

  local function run_probes(code, p, probes)
    local sig = agree.signature(t.source(code, p), p.entry_point, probes, agree_opts)
    sig = sig and (p.id .. "\0" .. sig) or false
    by_source[code] = sig
    return sig
  end

  --- Behaviour signatures of programs (false: no program, or it does not
  -- run), all in flight at once. opts.variants: probe variants to add to the
  -- docstring's inputs (default 0). Used by slmmux.agree.solve.
  function t.signatures(programs, p, opts)
    local variants = opts and opts.variants or 0
    local probes = t.probes(p, variants)
    local out = mux.map(programs, function(code)
      if not code then return false end
      return once(sigs, p.id .. "\0" .. variants .. "\0" .. code, run_probes, code, p, probes)
    end)
    for i = 1, #programs do out[i] = out[i] or false end
    return out
  end

  --- Programs are equal when their signatures are (once computed by
  -- signatures()); before that, when their text is. Used by the runner's
  -- per-model votes. Never yields.
  function t.equiv(a, b)
    local sa, sb = by_source[a], by_source[b]
    if sa == nil or sb == nil then return a == b end
    return sa ~= false and sa == sb
  end

  return t
end

---------------------------------------------------------------------------
-- The report: pass@1 / pass@k per model from results.jsonl

local function read_lines(path)
  local cjson = require "cjson"
  local lines = {}
  for l in io.lines(path) do
    if l:match("%S") then lines[#lines + 1] = cjson.decode(l) end
  end
  return lines
end

local function model_metrics(name, entries, ks)
  local n_problems, sums = 0, {}
  for _, k in ipairs(ks) do sums[k] = 0 end
  local sel, sel_ok = 0, 0
  for _, e in ipairs(entries) do
    local n, c = #e.calls, 0
    for _, call in ipairs(e.calls) do if call.correct then c = c + 1 end end
    if n > 0 then
      n_problems = n_problems + 1
      for _, k in ipairs(ks) do
        if k <= n then sums[k] = sums[k] + M.pass_at_k(n, c, k) end
      end
    end
    if e.selected then
      sel = sel + 1
      if e.correct then sel_ok = sel_ok + 1 end
    end
  end
  local pass = {}
  for _, k in ipairs(ks) do
    pass["pass@" .. k] = n_problems > 0 and sums[k] / n_problems or nil
  end
  return {model = name, problems = n_problems, pass = pass, selected = sel,
    selected_correct = sel_ok}
end

--- Per-model pass@1 and pass@k (unbiased, over each model's n samples),
-- pass@1 of the selected programs, attribution and the sandbox counts,
-- from a run's summary (as mux.run returns it) and its results.jsonl.
function M.metrics(summary, task)
  local lines = read_lines(summary.out .. "/results.jsonl")
  local per, order, kmax, scored, correct = {}, {}, 1, 0, 0
  for _, line in ipairs(lines) do
    if not line.error then
      scored = scored + 1
      if line.correct then correct = correct + 1 end
      for _, m in ipairs(line.models) do
        if not per[m.model] then per[m.model] = {}; order[#order + 1] = m.model end
        kmax = math.max(kmax, #m.calls)
        local list = per[m.model]
        list[#list + 1] = {calls = m.calls, selected = line.selected_model == m.model,
          correct = line.correct}
      end
    end
  end
  local ks = {1}
  if kmax > 1 then ks[2] = kmax end
  local models = {}
  for i, name in ipairs(order) do models[i] = model_metrics(name, per[name], ks) end
  local stats = task and task.stats
  local execs = stats and stats.test_runs + stats.probe_runs
  return {label = summary.label, selected_pass1 = scored > 0 and correct / scored or nil, scored = scored,
    k = kmax, models = models, isolation = mux.isolation and mux.isolation() or nil,
    executions = execs, test_runs = stats and stats.test_runs,
    probe_runs = stats and stats.probe_runs, outcomes = stats and stats.outcomes,
    sandbox_errors = stats and stats.sandbox_errors,
    exec_cpu_s = stats and stats.exec_cpu_ms / 1000,
    executions_per_s = execs and summary.wall_s and summary.wall_s > 0
      and execs / summary.wall_s or nil}
end

local function pct(v) return v and string.format("%.1f", 100 * v) or "-" end

--- A short table of metrics() for the terminal.
function M.table(h)
  local out = {string.format("%-40s %8s %8s %10s", "HumanEval (execution)", "pass@1",
    "pass@" .. h.k, "selected")}
  for _, m in ipairs(h.models) do
    out[#out + 1] = string.format("%-40s %8s %8s %5d/%-4d", m.model, pct(m.pass["pass@1"]),
      pct(m.pass["pass@" .. h.k]), m.selected_correct, m.selected)
  end
  out[#out + 1] = string.format("%-40s %8s", "selected program (" .. (h.label or "policy") .. ")",
    pct(h.selected_pass1))
  if h.executions then
    local oc = h.outcomes
    out[#out + 1] = string.format("sandbox: %d runs (%d tests, %d probes, %d failed to start "
      .. "and were retried), %.1f runs/s; distinct programs tested: %d pass, %d fail, "
      .. "%d timeout, %d crash, %d truncated", h.executions, h.test_runs, h.probe_runs,
      h.sandbox_errors, h.executions_per_s or 0, oc.pass, oc.fail, oc.timeout, oc.crash,
      oc.truncated or 0)
  end
  return table.concat(out, "\n") .. "\n"
end

--- Adds metrics() to a run: summary.humaneval, summary.json rewritten,
-- the table printed (unless summary.config.quiet). Returns the summary.
function M.finish(summary, task)
  local report = require "slmmux.report"
  summary.humaneval = M.metrics(summary, task)
  local f = assert(io.open(summary.out .. "/summary.json", "w"))
  f:write(report.encode_pretty(summary))
  f:close()
  if not (summary.config and summary.config.quiet) then io.write(M.table(summary.humaneval)) end
  return summary
end

-- The module itself is the default task, so `task = "humaneval"` needs no call.
for k, v in pairs(M.new()) do M[k] = v end

return M
