-- Behavioural agreement for code: SLM-MUX's confidence when answers are
-- programs. Two programs agree when they behave the same, not when their
-- text matches: each program runs (in the sandbox, never here) on probe
-- inputs -- the inputs of the examples in the problem's docstring, never the
-- hidden tests -- and its behaviour signature is the list of what it returned
-- (a canonical repr) or raised (the exception's type name) on each probe.
-- A model's confidence is the size of its largest signature group / k.
--
--   local agree = require "slmmux.agree"
--   agree.probes(prompt, "add")            -> {"2, 3", "[1], 4"}  (argument lists)
--   agree.variants(probes, n)              -> more inputs derived from those
--   agree.signatures(sources, "add", probes [, opts]) -> {sig | false, ...}
--   agree.select(per_model [, opts])       -> SLM-MUX decision over signatures
--   agree.solve(problem, ctx)              -> the whole policy, for a recipe
--
-- A program that does not run on the probes (syntax error, a crash while it
-- is defined, no function entry_point) has no signature (false): it never
-- groups, not even with an identical failure, as a failed extraction in
-- slmmux.vote. With no probes at all a signature falls back to the source text
-- (textual agreement, as SLM-MUX does for answers), for programs that run.
local cjson = require "cjson"
local files = require "slmmux.files"
local vote = require "slmmux.vote"

local M = {}

local mux = require "slmmux"

-- Options and their defaults, in one place. Seconds; python is argv's head.
M.DEFAULTS = {
  probe_timeout = 1,        -- CPU seconds per probe (ITIMER_PROF in the program)
  start_timeout = 5,        -- wall clock for Python's start and the program's definition
  max_wall = 30,            -- cap on one run's wall clock
  mem_mb = 1024,
  nproc = 16,
  python = {"python3", "-I"},
}

-- The Python programs of the sandbox runs, beside this file: harness.py
-- (a program's behaviour on the probes) and variants.py (more probes).
local HARNESS = files.read("agree/harness.py")
local VARIANTS = files.read("agree/variants.py")

-- A token a program cannot guess: 16 bytes of /dev/urandom, in hex.
function M.token()
  local f = assert(io.open("/dev/urandom", "rb"))
  local bytes = f:read(16)
  f:close()
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- Runs that fail to start ("error": the sandbox's fault, never the
-- program's) are tried again, up to this many times in all. Under load
-- bubblewrap sometimes fails at start-up, a few runs in a hundred, in bursts
-- (measured on a 2-core machine with 4 runs at once), hence the pauses.
local EXEC_ATTEMPTS = 5

--- mux.exec(spec), again while its status is "error" (a sandbox that could
-- not start the run: the program never ran, so a retry is safe).
-- on_run(result), if given, sees every attempt. Returns the last result.
function M.exec(spec, on_run)
  local r
  for attempt = 1, EXEC_ATTEMPTS do
    r = mux.exec(spec)
    if on_run then on_run(r) end
    if r.status ~= "error" or attempt == EXEC_ATTEMPTS then break end
    mux.sleep(0.05 * attempt)
  end
  return r
end

---------------------------------------------------------------------------
-- Probes: the argument lists of the calls in the docstring examples.

-- Index just past the quoted string opening at i (s:sub(i, i) is ' or ").
local function skip_string(s, i)
  local q = s:sub(i, i)
  local j = i + 1
  while j <= #s do
    local c = s:sub(j, j)
    if c == "\\" then j = j + 2
    elseif c == q then return j + 1
    elseif c == "\n" then return nil
    else j = j + 1 end
  end
  return nil
end

-- The text between the "(" at `open` and its matching ")", or nil.
local function balanced(s, open)
  local depth, i = 0, open
  while i <= #s do
    local c = s:sub(i, i)
    if c == "'" or c == '"' then
      i = skip_string(s, i)
      if not i then return nil end
    else
      if c == "(" or c == "[" or c == "{" then depth = depth + 1
      elseif c == ")" or c == "]" or c == "}" then
        depth = depth - 1
        if depth == 0 then return c == ")" and s:sub(open + 1, i - 1) or nil end
      end
      i = i + 1
    end
  end
  return nil
end

local LITERAL_NAMES = {True = true, False = true, None = true}

-- Are the arguments literals? Prose such as "f(n)" or "f(n-1)" is not a probe.
local function literal_args(args)
  local bare, i = {}, 1
  while i <= #args do
    local c = args:sub(i, i)
    if c == "'" or c == '"' then
      local j = skip_string(args, i)
      if not j then return false end
      bare[#bare + 1] = " "
      i = j
    else
      bare[#bare + 1] = c
      i = i + 1
    end
  end
  local text = table.concat(bare)
  for at, name in text:gmatch("()([%a_][%w_]*)") do
    local before = at > 1 and text:sub(at - 1, at - 1) or ""
    if not before:match("[%w_.]") and not LITERAL_NAMES[name] then return false end
  end
  return true
end

--- The probe inputs of a HumanEval-style prompt: the argument lists (Python
-- source, e.g. "[1, 2], 3") of every call of entry_point in the prompt
-- outside its def line -- ">>> f(x)" examples and the "f(x) ==> y" or
-- "f(x) returns y" forms -- whose arguments are literals. In order, unique.
function M.probes(prompt, entry_point)
  if type(prompt) ~= "string" then error("agree.probes: prompt must be a string", 2) end
  if type(entry_point) ~= "string" or not entry_point:match("^[%a_][%w_]*$") then
    error("agree.probes: entry_point must be a Python identifier", 2)
  end
  local found, seen = {}, {}
  for at, open in prompt:gmatch("()" .. entry_point .. "%s*()%(") do
    local before = prompt:sub(math.max(1, at - 4), at - 1)
    local prev = at > 1 and prompt:sub(at - 1, at - 1) or ""
    if not prev:match("[%w_.]") and not before:match("def%s$") then
      local args = balanced(prompt, open)
      args = args and args:gsub("%s*\n%s*", " "):match("^%s*(.-)%s*$")
      if args and args ~= "" and literal_args(args) and not seen[args] then
        seen[args] = true
        found[#found + 1] = args
      end
    end
  end
  return found
end

local function options(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do
    if M.DEFAULTS[k] == nil and k ~= "on_run" then
      error("agree: unknown option '" .. tostring(k) .. "'", 3)
    end
    o[k] = v
  end
  return o
end


--- Up to n variants of each probe (argument lists), new ones only: more
-- inputs to tell programs apart than the docstring's few examples. Made
-- from the probes alone, never from tests. One sandbox run; returns the
-- list, or nil, err.
function M.variants(probes, n, opts)
  if type(probes) ~= "table" then error("agree.variants: probes must be an array", 2) end
  if math.type(n) ~= "integer" or n < 0 then error("agree.variants: n must be an integer >= 0", 2) end
  if n == 0 or #probes == 0 then return {} end
  local o = options(opts)
  local argv = {}
  for i, a in ipairs(o.python) do argv[i] = a end
  argv[#argv + 1] = "variants.py"
  local r = M.exec({argv = argv, wall = o.max_wall, cpu = o.max_wall, mem_mb = o.mem_mb,
    files = {["variants.py"] = VARIANTS, ["probes.json"] = cjson.encode({probes = probes, n = n})}},
    o.on_run)
  local ok, list = pcall(cjson.decode, r.stdout)
  if r.status ~= "exited" or r.code ~= 0 or not ok or type(list) ~= "table" then
    return nil, "agree.variants: " .. (r.message or r.stderr:match("[^\n]*\n?$") or r.status)
  end
  return list
end

---------------------------------------------------------------------------
-- Signatures


-- Reads the harness's lines into per-probe results; nil, why when the
-- program never got defined.
local function parse(stdout, token, n)
  local results, defined, why = {}, false, nil
  local prefix = token .. " "
  for line in stdout:gmatch("[^\n]+") do
    if line:sub(1, #prefix) == prefix then
      local ok, rec = pcall(cjson.decode, line:sub(#prefix + 1))
      if ok and type(rec) == "table" then
        if rec[1] == "def" then defined = true
        elseif rec[1] == "nodef" then why = tostring(rec[3])
        elseif rec[1] == "r" then
          local i = math.tointeger(rec[2])   -- cjson may decode 0 as 0.0
          if i and i >= 0 and i < n and type(rec[3]) == "string" then results[i + 1] = rec[3] end
        end
      end
    end
  end
  if not defined then return nil, why end
  return results
end

local function run_harness(source, entry_point, probes, o)
  local token = M.token()
  local spec = cjson.encode({entry_point = entry_point, probes = probes, timeout = o.probe_timeout})
  local wall = math.min(o.max_wall, o.start_timeout + #probes * o.probe_timeout * 2)
  local argv = {}
  for i, a in ipairs(o.python) do argv[i] = a end
  argv[#argv + 1] = "harness.py"
  local r = M.exec({argv = argv, stdin = token .. "\n", wall = wall, cpu = wall,
    mem_mb = o.mem_mb, nproc = o.nproc, out_cap = 64 * 1024 + 4096 * #probes,
    files = {["harness.py"] = HARNESS, ["prog.py"] = source, ["probes.json"] = spec}}, o.on_run)
  if r.status == "error" then
    error("agree: the sandbox could not run a program: " .. tostring(r.message), 0)
  end
  return r, token
end

--- The behaviour signature of one program (full Python source) on the
-- probes: a string, or nil, why when it does not run (then never grouped).
-- One sandbox run. opts: see DEFAULTS, and on_run(result) to count runs.
function M.signature(source, entry_point, probes, opts)
  if type(source) ~= "string" then error("agree.signature: source must be a string", 2) end
  if type(probes) ~= "table" then error("agree.signature: probes must be an array", 2) end
  local o = options(opts)
  local r, token = run_harness(source, entry_point, probes, o)
  local results, why = parse(r.stdout, token, #probes)
  if not results then
    if r.status == "timeout" then why = "timeout while defining" end
    return nil, why or (r.status .. (r.code and (" " .. r.code) or ""))
  end
  -- Probes the run never reached: it was killed (wall clock, CPU) or exited.
  local dead = r.status == "exited" and "!Exit" or r.status == "timeout" and "!Timeout"
    or ("!Signal" .. tostring(r.signal))
  for i = 1, #probes do results[i] = results[i] or dead end
  if #probes == 0 then return "source:" .. source end
  return cjson.encode(results)
end

--- Signatures of many programs, all in flight at once (the host bounds the
-- runs and queues the rest); identical sources run once. sources[i] may be
-- false (no program). Returns an array parallel to sources: signature
-- string, or false; and an array of the reasons for false entries.
function M.signatures(sources, entry_point, probes, opts)
  if type(sources) ~= "table" then error("agree.signatures: sources must be an array", 2) end
  local distinct, index = {}, {}
  for _, s in ipairs(sources) do
    if s and not index[s] then
      distinct[#distinct + 1] = s
      index[s] = #distinct
    end
  end
  local sigs = mux.map(distinct, function(s)
    local sig, why = M.signature(s, entry_point, probes, opts)
    return {sig = sig or false, why = why}
  end)
  local out, why = {}, {}
  for i, s in ipairs(sources) do
    local r = s and sigs[index[s]]
    out[i], why[i] = r and r.sig or false, r and r.why or (not s and "no program" or nil)
  end
  return out, why
end

---------------------------------------------------------------------------
-- Grouping and selection

--- Groups of equal signatures: {{signature =, members = {i, ...}}, ...},
-- largest first, ties by first appearance; false never groups.
function M.groups(signatures)
  local groups, at = {}, {}
  for i, s in ipairs(signatures) do
    if s then
      local g = at[s]
      if not g then
        g = {signature = s, members = {}, first = i}
        at[s] = g
        groups[#groups + 1] = g
      end
      g.members[#g.members + 1] = i
    end
  end
  table.sort(groups, function(a, b)
    if #a.members ~= #b.members then return #a.members > #b.members end
    return a.first < b.first
  end)
  return groups
end

-- The program of a group: its most frequent text, ties to the first sample.
local function representative(programs, members)
  local count, best = {}, nil
  for _, i in ipairs(members) do
    local p = programs[i]
    count[p] = (count[p] or 0) + 1
    if not best or count[p] > count[best] then best = p end
  end
  return best
end

--- SLM-MUX selection over behaviour signatures. per_model = {{model =,
-- programs = {...}, signatures = {...}}, ...} (k entries each, false where
-- a sample has no program or no signature). The rule of Algorithm 1 is
-- slmmux.vote.mux's, with signatures as the answers: highest confidence (top
-- group / k) wins; ties go to the higher validation accuracy (opts.accuracy,
-- {[model] = acc}), then to the earlier model. Returns a decision {answer =
-- program, model =, confidence =, reason =, signature =}.
function M.select(per_model, opts)
  if type(per_model) ~= "table" then error("agree.select: per_model must be an array", 2) end
  local answers = {}
  for i, m in ipairs(per_model) do
    if type(m.signatures) ~= "table" or type(m.programs) ~= "table" then
      error("agree.select: per_model[" .. i .. "] needs programs and signatures", 2)
    end
    answers[i] = {model = m.model, answers = m.signatures, n = #m.signatures}
  end
  local pick = vote.mux(answers, {accuracy = opts and opts.accuracy})
  if pick.model == nil then
    return {confidence = 0, reason = "no_answer"}   -- no program ran on the probes
  end
  local winner
  for _, m in ipairs(per_model) do
    if m.model == pick.model then winner = m end
  end
  local members = {}
  for i, s in ipairs(winner.signatures) do
    if s == pick.answer then members[#members + 1] = i end
  end
  return {answer = representative(winner.programs, members), model = pick.model,
    confidence = pick.confidence, reason = pick.reason, signature = pick.answer}
end

-- Marks each sample with its behaviour group (1 = the model's largest) or
-- false, so results.jsonl shows how the programs grouped.
local function annotate(calls, signatures)
  local rank = {}
  for r, g in ipairs(M.groups(signatures)) do rank[g.signature] = r end
  for i, c in ipairs(calls or {}) do
    c.behaviour = signatures[i] and rank[signatures[i]] or false
  end
end

--- Every model's answers in one array, model after model (for signatures).
function M.flatten(per_model)
  local all = {}
  for _, m in ipairs(per_model) do
    for _, a in ipairs(m.answers) do all[#all + 1] = a end
  end
  return all
end

--- Gives each model of per_model (as ctx.sample_all returns it) its
-- programs and its part of sigs (parallel to flatten(per_model)), and marks
-- each sample in ctx.records with its behaviour group. Returns per_model.
function M.split(per_model, sigs, ctx)
  local at = 0
  for _, m in ipairs(per_model) do
    m.programs, m.signatures = m.answers, {}
    for i = 1, #m.answers do m.signatures[i] = sigs[at + i] or false end
    at = at + #m.answers
    local rec = ctx and ctx.records and ctx.records[m.model]
    annotate(rec and rec.calls, m.signatures)
  end
  return per_model
end

--- SLM-MUX with behavioural agreement, as a recipe's solve: k programs from
-- every model, a signature for each (ctx.task.signatures(programs, problem)),
-- then select(). Returns a decision, or nil, err when a request failed.
function M.solve(problem, ctx)
  if type(ctx.task.signatures) ~= "function" then
    error("agree.solve: the task has no signatures(programs, problem)", 2)
  end
  local per_model, err = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err end
  local sigs = ctx.task.signatures(M.flatten(per_model), problem)
  return M.select(M.split(per_model, sigs, ctx), {accuracy = ctx.accuracy})
end

return M
