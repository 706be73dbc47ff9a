-- The reference's scoring (compat = "reference") beside slmmux's, on the
-- datasets' own worked solutions, which are right by construction: how many
-- each pipeline reads back as correct, and how many answers of one problem
-- each accepts for another problem whose reference is written differently
-- (cross-problem acceptances, listed where the two disagree, to be judged).
-- Prints figures; see bench_scoring.sh.
local tasks = require "slmmux.tasks"
local home = require("slmmux").home or "."

local function figures(name, ref_task, own_task, problems, solution_of)
  local ref_ok, own_ok, missed = 0, 0, {}
  for _, p in ipairs(problems) do
    local text = solution_of(p)
    local r = ref_task.extract(text, p)
    if ref_task.score(r, p) then ref_ok = ref_ok + 1
    else missed[#missed + 1] = string.format("%s: read %s", p.id, tostring(r)) end
    if own_task.score(own_task.extract(text, p), p) then own_ok = own_ok + 1 end
  end
  -- Cross-problem: problem i's reference answer offered for problem j whose
  -- reference is written differently. Most acceptances are right (90 for
  -- 90^\circ); the pairs only one pipeline accepts are listed to be judged.
  local ref_n, own_n, npairs, only = 0, 0, 0, {}
  for i, a in ipairs(problems) do
    for j, b in ipairs(problems) do
      if i ~= j and a.reference ~= b.reference then
        npairs = npairs + 1
        local r, o = ref_task.score(a.reference, b), own_task.score(a.reference, b)
        if r then ref_n = ref_n + 1 end
        if o then own_n = own_n + 1 end
        if r ~= o then
          local line = string.format("%s: %s for %s", r and "reference only" or "slmmux only",
            a.reference, b.reference)
          only[line] = (only[line] or 0) + 1
        end
      end
    end
  end
  print(string.format("%s: %d worked solutions read back correct: reference scoring %d (%.1f%%), "
    .. "slmmux %d (%.1f%%); the reference's misses: %s", name, #problems, ref_ok,
    100 * ref_ok / #problems, own_ok, 100 * own_ok / #problems, table.concat(missed, "; ")))
  print(string.format("%s: one problem's reference accepted for another's (written differently), "
    .. "in %d pairs: reference %d, slmmux %d; accepted by one only:", name, npairs, ref_n, own_n))
  local lines = {}
  for line, n in pairs(only) do lines[#lines + 1] = string.format("  %s (%d pair%s)", line, n,
    n > 1 and "s" or "") end
  table.sort(lines)
  print(#lines > 0 and table.concat(lines, "\n") or "  none")
end

local m_ref, m_own = tasks.resolve("math", {compat = "reference"}), tasks.resolve("math", {})
figures("MATH-500", m_ref, m_own, m_own.load(home .. "/data/math_500.json"),
  function(p) return p.solution end)
local g_ref, g_own = tasks.resolve("gsm8k", {compat = "reference"}), tasks.resolve("gsm8k", {})
figures("GSM8K (gsm8k_500)", g_ref, g_own, g_own.load(home .. "/data/gsm8k_500.json"),
  function(p) return p.answer end)
