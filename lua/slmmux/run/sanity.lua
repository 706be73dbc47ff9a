-- The checks a careful researcher runs by hand, run on every run: each
-- finding is printed once, as one line on stderr ("slmmux: check: ..."), and
-- kept in summary.json under "checks". Before the run (from the settings and
-- the data):
--   temperature_zero    k > 1 samples at temperature 0 are one sample k times
--   seed_no_effect      a seed was given but nothing in this run depends on it
--                       (requests carry none), or, when requests carry it,
--                       a model whose samples sent with different seeds are
--                       byte-identical on most problems (the server ignores it)
--   duplicate_ids       a dataset holds the same problem id more than once
--   validation_overlap  validation problems that are evaluated problems too
-- After it (from every evaluated sample):
--   identical_samples   at temperature > 0, a model's k samples are
--                       byte-identical on most problems (the server ignores
--                       temperature or n)
--   unextracted         more than max_unextracted of a model's samples have
--                       no answer the task can extract
--   truncated           samples cut off by max_tokens (finish_reason "length")
local M = {}

local function pct(x) return string.format("%.0f%%", 100 * x) end

--- A new record of findings for a run with settings cfg.
function M.new(cfg)
  local t = {cfg = cfg, found = {}, models = {}}
  for _, m in ipairs(cfg.models) do
    t.models[m] = {multi = 0, identical = 0, seeded = 0, seeded_identical = 0, samples = 0,
      unextracted = 0, truncated = 0}
  end
  return t
end

local function report(t, finding)
  t.found[#t.found + 1] = finding
  io.stderr:write("slmmux: check: ", finding.message, "\n")
end

local function example_ids(dups)
  local list = {}
  for i = 1, math.min(3, #dups) do
    list[i] = string.format("'%s' x%d", dups[i].id, dups[i].count)
  end
  return table.concat(list, ", ") .. (#dups > 3 and ", ..." or "")
end

local function check_duplicates(t, dups, path, role)
  if not dups or #dups == 0 then return end
  report(t, {check = "duplicate_ids", role = role, data = path, count = #dups, ids = dups,
    message = string.format("%s (%s) holds %d problem id%s more than once (%s): their lines in "
      .. "results.jsonl cannot be told apart by id", path, role, #dups, #dups > 1 and "s" or "",
      example_ids(dups))})
end

-- A seed reaches a run's outcome through the simulator, through requests
-- that carry one, or by choosing which problems a shuffled, limited run
-- evaluates; otherwise every seed samples the same identities.
local function check_seed(t, o)
  local cfg = t.cfg
  if o.sources.seed == "default" or o.sources.seed == nil or o.backend == "sim" or o.seeded then
    return
  end
  if cfg.shuffle and cfg.limit and cfg.limit < o.candidates then return end
  report(t, {check = "seed_no_effect", seed = cfg.seed,
    message = string.format("seed %d changes nothing in this run: requests carry no seed and %s, "
      .. "so another seed asks for (and reuses from the store) the same samples",
      cfg.seed, cfg.shuffle and "all problems are evaluated, in whatever order"
        or "the problems are not shuffled")})
end

--- The checks that need no samples. o = {policy, sel (slmmux.run.problems.select)}.
function M.before(t, o)
  local cfg = t.cfg
  if cfg.temperature == 0 and cfg.samples > 1 and o.policy ~= "single" then
    report(t, {check = "temperature_zero", message = "temperature 0 makes a model's samples "
      .. "identical; SLM-MUX confidence needs temperature > 0"})
  end
  local sel = o.sel
  check_duplicates(t, sel.duplicates.evaluated, sel.path, "evaluated")
  if sel.validation then
    check_duplicates(t, sel.duplicates.validation, sel.validation.path or sel.path, "validation")
    if sel.overlap > 0 then
      report(t, {check = "validation_overlap", count = sel.overlap,
        message = string.format("%d of the %d validation problems of %s are evaluated problems "
          .. "too (same text): their tie-break accuracies are not measured on disjoint problems",
          sel.overlap, #sel.validation.problems, sel.validation.path)})
    end
  end
end

-- A model's call in a line names its turn and choice in the transcript,
-- which holds its text and the seed it was sent with.
local function choice_of(line, call)
  local turn = line.transcript and call.turn and line.transcript[call.turn]
  return turn and turn.choices and turn.choices[call.choice] or call
end

-- Are the calls' texts byte-identical? And were they sent with more than one seed?
local function compare(line, calls)
  local first = choice_of(line, calls[1])
  local same, seeds = type(first.text) == "string", {}
  for i = 1, #calls do
    local c = choice_of(line, calls[i])
    if c.text ~= first.text then same = false end
    if c.seed ~= nil then seeds[c.seed] = true end
  end
  return same, next(seeds) ~= nil and next(seeds, next(seeds)) ~= nil
end

--- Counts one results.jsonl line (a table) of the evaluation.
function M.add(t, line)
  for _, m in ipairs(line.models or {}) do
    local s = t.models[m.model]
    if s and #m.calls > 0 then
      if #m.calls > 1 then
        local same, seeded = compare(line, m.calls)
        s.multi = s.multi + 1
        if same then s.identical = s.identical + 1 end
        if seeded then
          s.seeded = s.seeded + 1
          if same then s.seeded_identical = s.seeded_identical + 1 end
        end
      end
      for _, c in ipairs(m.calls) do
        s.samples = s.samples + 1
        if c.answer == nil or c.answer == false then s.unextracted = s.unextracted + 1 end
        if c.finish_reason == "length" then s.truncated = s.truncated + 1 end
      end
    end
  end
end

local function model_checks(t, m, s)
  local cfg = t.cfg
  if cfg.temperature > 0 and s.multi > 0 and s.identical * 2 > s.multi then
    report(t, {check = "identical_samples", model = m, count = s.identical, of = s.multi,
      message = string.format("%s gave byte-identical samples on %d of %d problems at temperature "
        .. "%g: the server may ignore temperature or n, and SLM-MUX confidence then means nothing",
        m, s.identical, s.multi, cfg.temperature)})
  end
  if s.seeded > 0 and s.seeded_identical * 2 > s.seeded then
    report(t, {check = "seed_no_effect", model = m, seed = cfg.seed, count = s.seeded_identical,
      of = s.seeded, message = string.format("seed %d changes nothing for %s: its samples sent "
        .. "with different seeds are byte-identical on %d of %d problems (the server ignores "
        .. "the seed)", cfg.seed, m, s.seeded_identical, s.seeded)})
  end
  if s.samples > 0 and s.unextracted > cfg.max_unextracted * s.samples then
    report(t, {check = "unextracted", model = m, count = s.unextracted, of = s.samples,
      message = string.format("no answer could be extracted from %d of %d samples (%s) of %s, "
        .. "over max_unextracted=%s: the prompt's answer format and the task's extract disagree, "
        .. "or replies were cut off (see results.jsonl)", s.unextracted, s.samples,
        pct(s.unextracted / s.samples), m, pct(cfg.max_unextracted))})
  end
  if s.truncated > 0 then
    report(t, {check = "truncated", model = m, count = s.truncated, of = s.samples,
      message = string.format("%d of %d samples of %s were cut off at max_tokens=%d "
        .. "(finish_reason \"length\"): their answers are missing or partial",
        s.truncated, s.samples, m, cfg.max_tokens)})
  end
end

--- The checks over the run's requests and the samples counted by add().
-- o = {sources, backend, seeded (a request carried a seed), candidates
-- (problems a shuffle chooses from)}.
function M.after(t, o)
  check_seed(t, o)
  for _, m in ipairs(t.cfg.models) do model_checks(t, m, t.models[m]) end
end

--- The findings, for summary.json (nil when there are none).
function M.findings(t)
  return #t.found > 0 and t.found or nil
end

return M
