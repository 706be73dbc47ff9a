-- Paired comparison of runs on the problems they share: each run's
-- accuracy there, and for each pair the difference with a paired-bootstrap
-- 95% interval, the exact McNemar p-value and the wins, losses and ties.
-- A run is its directory (results.jsonl, summary.json); a problem is
-- shared when every run decided it (a failed problem is no verdict).
local cjson = require "cjson"
local errors = require "slmmux.errors"
local stats = require "slmmux.analysis.stats"

local M = {}

local function read_json(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local ok, v = pcall(cjson.decode, f:read("a"))
  f:close()
  return ok and v or nil
end

--- A run directory: {dir, label, verdicts = {[id] = true/false},
-- ids (in file order), failed = n, duplicates = n}.
function M.load(dir)
  local f = io.open(dir .. "/results.jsonl", "r")
  if not f then errors.usage("compare: " .. dir .. " is not a run directory (no results.jsonl)") end
  local run = {dir = dir, verdicts = {}, ids = {}, failed = 0, duplicates = 0}
  local n = 0
  for text in f:lines() do
    n = n + 1
    if text:match("%S") then
      local ok, l = pcall(cjson.decode, text)
      if not ok or type(l) ~= "table" or l.id == nil then
        f:close()
        errors.usage(string.format("compare: %s/results.jsonl:%d: not a result line", dir, n))
      end
      local id = tostring(l.id)
      if run.verdicts[id] ~= nil then run.duplicates = run.duplicates + 1
      elseif l.error or type(l.correct) ~= "boolean" then run.failed = run.failed + 1
      else
        run.verdicts[id] = l.correct
        run.ids[#run.ids + 1] = id
      end
    end
  end
  f:close()
  local s = read_json(dir .. "/summary.json") or {}
  run.label = (s.label or s.policy or "run") .. " [" .. (dir:match("([^/]+)/*$") or dir) .. "]"
  run.task = s.task
  return run
end

local function shared_ids(runs)
  local ids = {}
  for _, id in ipairs(runs[1].ids) do
    local all = true
    for i = 2, #runs do all = all and runs[i].verdicts[id] ~= nil end
    if all then ids[#ids + 1] = id end
  end
  return ids
end

--- The comparison of runs (loaded). opts: reps (10000), seed (0).
-- Returns {shared = {ids}, runs = {{label, dir, accuracy, right, unshared,
-- failed}}, pairs = {{a, b, diff, lo, hi, p, wins, losses, ties}}, notes}.
function M.run(runs, opts)
  opts = opts or {}
  if #runs < 2 then errors.usage("compare: give at least two run directories") end
  local ids = shared_ids(runs)
  local out = {shared = ids, runs = {}, pairs = {}, notes = {}, reps = opts.reps or 10000, seed = opts.seed or 0}
  if #ids == 0 then errors.usage("compare: the runs share no decided problem") end
  local cols = {}
  for i, r in ipairs(runs) do
    local col, right = {}, 0
    for j, id in ipairs(ids) do
      col[j] = r.verdicts[id]
      if col[j] then right = right + 1 end
    end
    cols[i] = col
    local lo, hi = stats.wilson(right, #ids)
    out.runs[i] = {label = r.label, dir = r.dir, task = r.task, right = right, accuracy = right / #ids,
      wilson_lo = lo, wilson_hi = hi, unshared = #r.ids - #ids, failed = r.failed, duplicates = r.duplicates}
    if #r.ids > #ids then
      out.notes[#out.notes + 1] = string.format("%s: %d of its %d decided problems are not in every run "
        .. "(left out)", r.label, #r.ids - #ids, #r.ids)
    end
    if r.failed > 0 then
      out.notes[#out.notes + 1] = string.format("%s: %d problems failed (no verdict, left out)", r.label, r.failed)
    end
    if r.duplicates > 0 then
      out.notes[#out.notes + 1] = string.format("%s: %d repeated problem ids (the first line counts)", r.label,
        r.duplicates)
    end
  end
  for i = 1, #runs do
    for j = i + 1, #runs do
      local w, l, t = stats.wins(cols[i], cols[j])
      local b = stats.paired_bootstrap(cols[i], cols[j], {reps = out.reps, seed = out.seed})
      out.pairs[#out.pairs + 1] = {a = runs[i].label, b = runs[j].label, diff = b.diff, lo = b.lo, hi = b.hi,
        p = stats.mcnemar(w, l), wins = w, losses = l, ties = t}
    end
  end
  return out
end

local function pct(v) return string.format("%.1f", 100 * v) end

--- The printed tables.
function M.text(c)
  local out = {string.format("paired comparison on the %d problems every run decided", #c.shared)}
  for _, n in ipairs(c.notes) do out[#out + 1] = "  " .. n end
  local w = 10
  for _, r in ipairs(c.runs) do w = math.max(w, #r.label) end
  out[#out + 1] = string.format("%-" .. w .. "s %10s %17s", "run", "accuracy", "Wilson 95%")
  for _, r in ipairs(c.runs) do
    out[#out + 1] = string.format("%-" .. w .. "s %9s%% %8s-%s%%", r.label, pct(r.accuracy), pct(r.wilson_lo),
      pct(r.wilson_hi))
  end
  local pw = 5
  for _, p in ipairs(c.pairs) do pw = math.max(pw, #p.a + #p.b + 3) end
  out[#out + 1] = string.format("%-" .. pw .. "s %9s %18s %10s %6s %6s %6s", "A - B", "diff", "bootstrap 95%",
    "McNemar p", "wins", "losses", "ties")
  for _, p in ipairs(c.pairs) do
    out[#out + 1] = string.format("%-" .. pw .. "s %+8.1f%% %8s, %s%% %10.4g %6d %6d %6d", p.a .. " - " .. p.b,
      100 * p.diff, pct(p.lo), pct(p.hi), p.p, p.wins, p.losses, p.ties)
  end
  out[#out + 1] = string.format("(paired bootstrap: %d resamples of the shared problems, seed %d; McNemar: "
    .. "exact two-sided binomial on the discordant pairs)", c.reps, c.seed)
  return table.concat(out, "\n") .. "\n"
end

return M
