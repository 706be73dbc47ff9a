-- A panel: the stored samples of a run's models on its problems, as answer
-- classes, read from the run's results.jsonl lines (each model's calls are
-- its k independent samples: the run asked them through ctx.sample_all, so
-- they are the store's identities and a rerun requests only what is
-- missing). Problems where the run failed, or where a model has fewer
-- than S samples, are left out and counted.
--
-- Classes: per problem, every answer of every model, in model then sample
-- order, joins the first class whose representative (its first member)
-- the task's equivalence holds equal to it, as slmmux.vote groups answers;
-- an answer no class takes opens one. A class is right when its
-- representative is. For an equivalence that is not transitive a vote over
-- a subsample can group differently from vote.count on it; "exact" and
-- MATH answers that are one value in several spellings group alike.
local mux = require "slmmux"

local M = {}

local function equality(equiv)
  if equiv == "math" then return mux.math.equiv end
  if type(equiv) == "function" then return equiv end
  return rawequal
end

-- The model entries of a line by name.
local function by_model(line)
  local t = {}
  for _, m in ipairs(line.models or {}) do t[m.model] = m end
  return t
end

-- The transcript choice a call names: its tokens.
local function tokens_of(line, call)
  local turn = call.turn and line.transcript and line.transcript[call.turn]
  local ch = turn and turn.choices and turn.choices[call.choice or 0]
  return ch and (ch.prompt_tokens or 0) or 0, ch and (ch.completion_tokens or 0) or 0
end

-- Classes of one problem: fills P.classes[m][p], P.right[p].
local function classify(P, p, entries, equal)
  local reps, right, intern = {}, {}, {}
  for m, e in ipairs(entries) do
    local row = {}
    for s = 1, P.samples do
      local c = e.calls[s]
      local a = c and c.answer
      local cls = 0
      if type(a) == "string" then
        cls = intern[a]
        if not cls then
          for i, rep in ipairs(reps) do
            if equal(rep, a) then cls = i break end
          end
          if not cls then
            reps[#reps + 1] = a
            cls = #reps
            right[cls] = c.correct == true
          end
          intern[a] = cls
        end
      end
      row[s] = cls
    end
    P.classes[m][p] = row
  end
  P.right[p], P.reps[p], P.intern[p] = right, reps, intern
end

local function sample_counts(P, m, p, line, e)
  local right, pt, ct = 0, 0, 0
  for s = 1, P.samples do
    local c = e.calls[s]
    if c.correct == true then right = right + 1 end
    local a, b = tokens_of(line, c)
    pt, ct = pt + a, ct + b
  end
  P.sample_right[m][p] = right
  P.prompt_tokens[m][p] = pt / P.samples
  P.completion_tokens[m][p] = ct / P.samples
end

--- The panel of models (names, in order) over the decided lines whose
-- every model has at least `samples` samples. equiv as the task's.
-- Returns P = {models, samples, ids, lines, classes, right, reps, intern
-- (per problem {[answer] = class}),
-- sample_right[m][p] (right samples of S), prompt_tokens[m][p] and
-- completion_tokens[m][p] (per sample, as stored), excluded = {errors =,
-- short = {[model] = problems with fewer samples}}}, or nil, message when
-- no problem is left.
function M.build(lines, models, samples, equiv)
  local P = {models = models, samples = samples, ids = {}, lines = {}, classes = {}, right = {}, reps = {}, intern = {},
    sample_right = {}, prompt_tokens = {}, completion_tokens = {}, excluded = {errors = 0, short = {}, problems = 0}}
  for m = 1, #models do
    P.classes[m], P.sample_right[m], P.prompt_tokens[m], P.completion_tokens[m] = {}, {}, {}, {}
  end
  local equal = equality(equiv)
  -- results.jsonl holds lines in the order problems finished; the panel's
  -- order (and so every Monte-Carlo draw and fold) must not depend on it
  local sorted = {}
  for i, l in ipairs(lines) do sorted[i] = l end
  table.sort(sorted, function(a, b) return tostring(a.id) < tostring(b.id) end)
  for _, line in ipairs(sorted) do
    local entries, ok = {}, not line.error
    if line.error then P.excluded.errors = P.excluded.errors + 1 end
    local named = by_model(line)
    for m, name in ipairs(models) do
      local e = named[name]
      if ok and (not e or #(e.calls or {}) < samples) then
        ok = false
        P.excluded.short[name] = (P.excluded.short[name] or 0) + 1
        P.excluded.problems = P.excluded.problems + 1
      end
      entries[m] = e
    end
    if ok then
      local p = #P.ids + 1
      P.ids[p], P.lines[p] = line.id, line
      classify(P, p, entries, equal)
      for m = 1, #models do sample_counts(P, m, p, line, entries[m]) end
    end
  end
  P.all_lines = lines
  if #P.ids == 0 then
    local missing, problems = M.missing_offline(lines)
    return nil, string.format("no problem has %d samples of every model (%d failed, %d short)%s", samples,
      P.excluded.errors, P.excluded.problems, missing > 0 and string.format("; --offline: the store lacks %d "
      .. "samples on %d problems (run without --offline to request only those)", missing, problems) or "")
  end
  return P
end

--- The C panel (mux.vote.panel) of P, made once.
function M.native(P)
  if not P.native then
    P.native = mux.vote.panel{samples = P.samples, classes = P.classes, right = P.right}
  end
  return P.native
end

--- Per model, the share of right samples over the problems `keep` (a set
-- of problem indices, or nil: all): the tie-break accuracies of offline
-- SLM-MUX, from the same samples. An array by model index.
function M.sample_accuracy(P, keep)
  local acc = {}
  for m = 1, #P.models do
    local right, n = 0, 0
    for p = 1, #P.ids do
      if not keep or keep[p] then right, n = right + P.sample_right[m][p], n + P.samples end
    end
    acc[m] = n > 0 and right / n or -1
  end
  return acc
end

--- Samples an --offline run found missing from the store: the sum over
-- its failed calls (each says "N of K samples missing"), and the problems.
function M.missing_offline(lines)
  local samples, problems = 0, 0
  for _, l in ipairs(lines) do
    local here = 0
    for _, t in ipairs(l.transcript or {}) do
      if t.error_kind == "offline" then here = here + (tonumber(tostring(t.error):match("(%d+) of %d+ samples missing")) or 0) end
    end
    if here > 0 then samples, problems = samples + here, problems + 1 end
  end
  return samples, problems
end

--- A sentence on what was left out, or nil.
function M.excluded_note(P)
  local e, parts = P.excluded, {}
  if e.errors > 0 then parts[#parts + 1] = string.format("%d problems failed in the run", e.errors) end
  for _, name in ipairs(P.models) do
    local n = e.short[name]
    if n then parts[#parts + 1] = string.format("%s has fewer than %d samples on %d problems", name, P.samples, n) end
  end
  local missing, problems = M.missing_offline(P.all_lines or {})
  if missing > 0 then
    parts[#parts + 1] = string.format("--offline: the store lacks %d samples on %d problems (run without "
      .. "--offline to request only those)", missing, problems)
  end
  if #parts == 0 then return nil end
  return "left out: " .. table.concat(parts, "; ")
end

return M
