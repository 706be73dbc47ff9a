-- What a run reports: a tally of finished problems, summary.json, the table
-- printed at the end, and the progress line (on a terminal or in a log).
local cjson = require "cjson"

local M = {}

local mux = require "slmmux"

local MAX_ERROR_KINDS = 10

--- JSON text of v. cjson escapes every "/" as "\/"; paths and model ids
-- read better without, and each "\/" in its output is such an escape.
function M.json(v)
  return (cjson.encode(v):gsub("\\/", "/"))
end

-- The tally's row of model m, made at first sight: a policy may call
-- models beyond the run's (an aggregator, a verifier).
local function row(t, m)
  if not t.models[m] then
    t.order[#t.order + 1] = m
    t.models[m] = {problems = 0, pass1 = 0, sc = 0, selected = 0, selected_correct = 0,
      prompt_tokens = 0, completion_tokens = 0, requests = 0, k = 0}
  end
  return t.models[m]
end

--- A new tally for the models of a run (in their order).
function M.tally(models)
  local t = {total = 0, scored = 0, errors = 0, correct = 0, unanswered = 0, early_exits = 0,
    oracle = 0, any_sample = 0, order = {}, models = {}, error_messages = {}}
  for _, m in ipairs(models) do row(t, m) end
  return t
end

local function count_error(t, msg)
  local e = t.error_messages
  for _, x in ipairs(e) do
    if x.message == msg then x.count = x.count + 1; return end
  end
  if #e < MAX_ERROR_KINDS then e[#e + 1] = {message = msg, count = 1} end
end

local function add_usage(s, m)
  s.prompt_tokens = s.prompt_tokens + (m.usage.prompt_tokens or 0)
  s.completion_tokens = s.completion_tokens + (m.usage.completion_tokens or 0)
  s.requests = s.requests + (m.requests or 0)
end

--- Counts one results.jsonl line (a table). Problems with an error count
-- their tokens but stay out of every accuracy.
function M.add(t, line)
  t.total = t.total + 1
  for _, m in ipairs(line.models) do add_usage(row(t, m.model), m) end
  if line.error then
    t.errors = t.errors + 1
    count_error(t, line.error)
    return
  end
  t.scored = t.scored + 1
  if line.correct then t.correct = t.correct + 1 end
  if line.final_answer == nil then t.unanswered = t.unanswered + 1 end
  if line.early_exit then t.early_exits = t.early_exits + 1 end
  local oracle, any = false, false
  for _, m in ipairs(line.models) do
    local s = t.models[m.model]
    if #m.calls > 0 then
      s.problems = s.problems + 1
      s.k = math.max(s.k, #m.calls)
      if m.calls[1].correct then s.pass1 = s.pass1 + 1 end
      if m.top_correct then s.sc, oracle = s.sc + 1, true end
      for _, c in ipairs(m.calls) do any = any or c.correct end
    end
  end
  if oracle then t.oracle = t.oracle + 1 end
  if any then t.any_sample = t.any_sample + 1 end
  local sel = line.selected_model and t.models[line.selected_model]
  if sel then
    sel.selected = sel.selected + 1
    if line.correct then sel.selected_correct = sel.selected_correct + 1 end
  end
end

--- {value, stderr, correct, n}: value = correct/n, stderr = sqrt(p(1-p)/n);
-- value and stderr are null when n = 0.
function M.accuracy(correct, n)
  if n == 0 then return {value = cjson.null, stderr = cjson.null, correct = 0, n = 0} end
  local p = correct / n
  return {value = p, stderr = math.sqrt(p * (1 - p) / n), correct = correct, n = n}
end

local function cost_of(s, price)
  if not price then return nil end
  return (s.prompt_tokens * (price.input or 0) + s.completion_tokens * (price.output or 0)) / 1e6
end

local function model_row(t, m, meta)
  local s = t.models[m]
  local price = meta.prices and meta.prices[m]
  return {
    model = m,
    simulated_as = meta.sim_profiles and meta.sim_profiles[m] or nil,
    samples = s.k,
    pass1 = M.accuracy(s.pass1, s.problems),
    self_consistency = M.accuracy(s.sc, s.problems),
    selected = {count = s.selected, share = t.scored > 0 and s.selected / t.scored or cjson.null,
      accuracy = M.accuracy(s.selected_correct, s.selected).value},
    validation_accuracy = meta.accuracy and meta.accuracy[m] or cjson.null,
    tokens = {prompt = s.prompt_tokens, completion = s.completion_tokens,
      total = s.prompt_tokens + s.completion_tokens},
    requests = s.requests,
    cost_usd = cost_of(s, price) or cjson.null,
  }
end

local function totals(rows, prices)
  local tok = {prompt = 0, completion = 0, total = 0}
  local cost, missing = 0, {}
  for _, r in ipairs(rows) do
    for k in pairs(tok) do tok[k] = tok[k] + r.tokens[k] end
    if r.cost_usd == cjson.null then missing[#missing + 1] = r.model
    else cost = cost + r.cost_usd end
  end
  if not prices then return tok, cjson.null end
  return tok, {total = cost, unpriced_models = #missing > 0 and missing or nil}
end

--- The summary.json table. meta: config, policy, label, task, data, backend,
-- endpoints, sim_profiles, accuracy (validation, used for tie-breaks),
-- validation, prices, started_at, wall_s, calls, out, and the sections
-- checks (slmmux.run.sanity's findings), manifest (slmmux.run.manifest)
-- and compat (with compat = "reference": the reference's scoring and
-- slmmux's on the same selected samples).
function M.summary(t, meta)
  local rows = {}
  for _, m in ipairs(t.order) do
    if t.models[m].problems > 0 or t.models[m].requests > 0 then
      rows[#rows + 1] = model_row(t, m, meta)
    end
  end
  local tokens, cost = totals(rows, meta.prices)
  return {
    version = mux.version, task = meta.task, data = meta.data, policy = meta.policy,
    label = meta.label, backend = meta.backend, simulated = meta.backend == "sim",
    endpoints = meta.endpoints,
    accuracy = M.accuracy(t.correct, t.scored),
    counts = {total = t.total, scored = t.scored, errors = t.errors,
      unanswered = t.unanswered, early_exits = t.early_exits},
    errors = #t.error_messages > 0 and t.error_messages or nil,
    oracle = M.accuracy(t.oracle, t.scored),
    any_sample = M.accuracy(t.any_sample, t.scored),
    models = rows,
    validation = meta.validation,
    tokens = tokens, cost_usd = cost,
    wall_s = meta.wall_s, started_at = meta.started_at,
    requests = {calls = meta.calls, host = meta.host_stats},
    config = meta.config, out = meta.out,
    checks = meta.checks, compat = meta.compat, manifest = meta.manifest,
  }
end

-- JSON with sorted keys and indentation, so summary.json reads and diffs well.
local function pretty(v, indent, out)
  if type(v) ~= "table" or v == cjson.null then
    out[#out + 1] = M.json(v); return
  end
  local pad, inner = indent, indent .. "  "
  if next(v) == nil then out[#out + 1] = "{}"; return end
  if v[1] ~= nil then
    out[#out + 1] = "["
    for i, x in ipairs(v) do
      out[#out + 1] = (i > 1 and ",\n" or "\n") .. inner
      pretty(x, inner, out)
    end
    out[#out + 1] = "\n" .. pad .. "]"
    return
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    out[#out + 1] = (i > 1 and ",\n" or "\n") .. inner .. M.json(k) .. ": "
    local x = v[k]
    if x == nil then x = v[tonumber(k)] end
    pretty(x, inner, out)
  end
  out[#out + 1] = "\n" .. pad .. "}"
end

--- JSON text of v, indented.
function M.encode_pretty(v)
  local out = {}
  pretty(v, "", out)
  return table.concat(out) .. "\n"
end

local function pct(a)
  if a.value == cjson.null then return "-" end
  if a.n < 2 then return string.format("%.1f", 100 * a.value) end
  return string.format("%.1f ± %.1f", 100 * a.value, 100 * a.stderr)
end

local function human(n)
  if n >= 1e6 then return string.format("%.2fM", n / 1e6) end
  if n >= 1e4 then return string.format("%.1fk", n / 1e3) end
  return tostring(math.floor(n))
end

local function align(rows)
  local widths = {}
  for _, r in ipairs(rows) do
    for i, cell in ipairs(r) do widths[i] = math.max(widths[i] or 0, utf8.len(cell) or #cell) end
  end
  local lines = {}
  for _, r in ipairs(rows) do
    local cells = {}
    for i, cell in ipairs(r) do
      local fill = widths[i] - (utf8.len(cell) or #cell)
      cells[i] = i == 1 and cell .. string.rep(" ", fill) or string.rep(" ", fill) .. cell
    end
    lines[#lines + 1] = (table.concat(cells, "   "):gsub("%s+$", ""))
  end
  return table.concat(lines, "\n")
end

local function money(c)
  if c == nil or c == cjson.null then return "" end
  return string.format("$%.4f", type(c) == "table" and c.total or c)
end

-- Under the table: where the tie-break accuracies came from, the compat
-- comparison, and how many checks spoke up (their lines are on stderr).
local function notes(s)
  local out = {}
  if s.validation and s.validation.source then
    out[#out + 1] = "tie-breaks: " .. s.validation.source
  end
  if s.compat then
    out[#out + 1] = string.format("scoring: the reference's (compat=reference) %s; slmmux's "
      .. "extraction and equivalence on the same selected samples %s", pct(s.compat.accuracy),
      pct(s.compat.equivalence))
  end
  if s.checks then
    out[#out + 1] = string.format("checks: %d finding%s (summary.json \"checks\")", #s.checks,
      #s.checks > 1 and "s" or "")
  end
  return #out > 0 and table.concat(out, "\n") .. "\n" or ""
end

--- The table printed at the end of a run: a row per model, one for the
-- policy, and the oracle; accuracies in % ± one standard error.
function M.table(s)
  local k = 0
  for _, r in ipairs(s.models) do k = math.max(k, r.samples) end
  local priced = s.cost_usd ~= cjson.null
  local head = {"", "pass@1", "SC@" .. k, "selected", "acc|sel", "tokens"}
  if priced then head[#head + 1] = "cost" end
  local rows = {head}
  for _, r in ipairs(s.models) do
    local sel = r.selected
    rows[#rows + 1] = {r.model, pct(r.pass1), pct(r.self_consistency),
      sel.share == cjson.null and "-" or string.format("%.0f%%", 100 * sel.share),
      sel.accuracy == cjson.null and "-" or string.format("%.1f", 100 * sel.accuracy),
      human(r.tokens.total), priced and money(r.cost_usd) or nil}
  end
  rows[#rows + 1] = {s.label, pct(s.accuracy), "", "", "", human(s.tokens.total),
    priced and money(s.cost_usd) or nil}
  rows[#rows + 1] = {"oracle (a model's top answer is right)", pct(s.oracle), "", "", "", ""}
  local c = s.counts
  local head_line = string.format("%s on %s: %d problems, %d scored, %d errors (excluded), "
    .. "%d without an answer%s; backend %s%s; %.1f s",
    s.label, s.task, c.total, c.scored, c.errors, c.unanswered,
    c.early_exits > 0 and string.format(", %d early exits (fewer samples there)", c.early_exits) or "",
    s.backend, s.simulated and " (simulated models, not measurements)" or "", s.wall_s)
  return head_line .. "\n" .. align(rows) .. "\n" .. notes(s)
    .. (s.out and ("results: " .. s.out .. "/results.jsonl\n") or "")
end

local function eta(p, now)
  local fresh = p.done - (p.done_before or 0)
  if fresh <= 0 or p.done >= p.total then return "-" end
  local left = math.ceil((now - p.started) / fresh * (p.total - p.done))
  if left >= 3600 then return string.format("%dh%02dm", left // 3600, left % 3600 // 60) end
  if left >= 60 then return string.format("%dm%02ds", left // 60, left % 60) end
  return string.format("%ds", left)
end

local function progress_line(p, now)
  local elapsed = math.max(now - p.started, 1e-3)
  return string.format("\r%s %d/%d · in flight %d · %.1f req/s · %s tokens · %d errors · ETA %s\27[K",
    p.phase, p.done, p.total, p.in_flight, (p.calls - (p.calls_before or 0)) / elapsed,
    human(p.tokens), p.errors, eta(p, now))
end

-- One line for a log (nohup, Slurm): no escape codes, every figure named.
local function plain_line(p, now)
  local elapsed = math.max(now - p.started, 1e-3)
  local host = mux.stats and mux.stats() or {}
  return string.format("slmmux: %s %d/%d problems · %.2f problems/s · %.1f req/s · %s tokens · "
    .. "%d errors · %d retries · %d rate-limit waits · ETA %s\n",
    p.phase, p.done, p.total, (p.done - (p.done_before or 0)) / elapsed,
    (p.calls - (p.calls_before or 0)) / elapsed, human(p.tokens), p.errors,
    host.retries or 0, host.rate_limited or 0, eta(p, now))
end

local PLAIN_EVERY_S = 30    -- default interval of the plain line (--progress-every)

local function progress_plain(p)
  local every = p.every_s or PLAIN_EVERY_S
  local due = mux.now() + every
  while p.running do
    mux.sleep(math.min(0.2, every))
    if p.running and mux.now() >= due then
      io.stderr:write(plain_line(p, mux.now()))
      io.stderr:flush()
      due = mux.now() + every
    end
  end
  io.stderr:write(plain_line(p, mux.now()))
  io.stderr:flush()
end

--- The progress task, while p.running: on a terminal it rewrites one line
-- on stderr at most five times a second; elsewhere (nohup, a Slurm log) it
-- writes one plain line every p.every_s seconds (default 30) and one at
-- the end. p = {phase, done, total, in_flight, calls, calls_before (calls
-- of earlier phases), done_before (problems done by an earlier run),
-- tokens, errors, started, running, every_s}.
function M.progress(p)
  if not mux.isatty(2) then return progress_plain(p) end
  while p.running do
    io.stderr:write(progress_line(p, mux.now()))
    io.stderr:flush()
    mux.sleep(0.2)
  end
  io.stderr:write("\r\27[K")
  io.stderr:flush()
end

return M
