-- SLM-MUX with adaptive sampling: the answer of asking k samples of every
-- model (policies/slm_mux.lua), for fewer samples. Samples are requested
-- in rounds: ceil(k/2) of every model first (no decision can be settled
-- with fewer), then one more of each model that could still change the
-- answer; a problem stops as soon as none can, given k, the counts so far
-- and the tie-break. With W the current winner (most confident so far,
-- ties to validation accuracy, then model order), m_W its top count and
-- r_j the samples model j has still to give, the answer a_W is settled when
--   - it stays W's top answer: every other answer of W has fewer than m_W
--     - r_W votes (exactly that many, when a_W was seen first), and m_W >=
--     r_W (a new answer would come later);
--   - no model can win with another answer: every answer of every other
--     model j other than a_W (by the task's equivalence), and a new one
--     (r_j votes), stays below m_W even with all of j's remaining samples,
--     or reaches it exactly and W wins the tie (a higher validation
--     accuracy, or the same and an earlier place). W's count only grows,
--     so whoever wins in the end wins with a_W.
-- The property test (tests/unit/test_adaptive.lua) checks the answer
-- against Algorithm 1 on all k samples. The selected model is W: with all
-- k samples another model giving the same answer may have been chosen,
-- and the confidence is the share of k seen so far, a lower bound. Each
-- round goes through the store (a stored sample costs nothing, a rerun
-- asks for the same ones) and pays the prompt again: fewer completion
-- tokens, more prompt tokens. A call that fails makes the problem an error
-- (retried next run).
local vote = require "slmmux.vote"

local mux = require "slmmux"

local M = {name = "slm_mux_adaptive", label = "SLM-MUX (adaptive sampling)",
  description = "SLM-MUX asking samples in rounds, stopping once no remaining sample can change "
    .. "the answer (always the answer of k samples per model)"}

-- Model i's tie-break accuracy as vote.select reads it, or nil.
local function accuracy_of(accuracy, i, name)
  if not accuracy then return nil end
  local a = rawget(accuracy, i)
  if a == nil then a = rawget(accuracy, name) end
  if type(a) ~= "number" or a ~= a or a < 0 then return nil end
  return a
end

local function equality(equiv)
  if equiv == "math" then return mux.math.equiv end
  if type(equiv) == "function" then return equiv end
  return rawequal
end

-- W wins a tie with j: a higher accuracy (a known one beats none), or the
-- same and an earlier place.
local function wins_tie(acc, w, j)
  local a, b = acc[w], acc[j]
  if a ~= nil and b ~= nil and a ~= b then return a > b end
  if (a == nil) ~= (b == nil) then return a ~= nil end
  return w < j
end

-- W's top answer cannot be displaced by its r remaining samples.
local function top_locked(groups, r)
  local top = groups[1]
  if top.count < r then return false end
  for i = 2, #groups do
    local g = groups[i]
    if top.count < g.count + r or (top.count == g.count + r and g.first < top.first) then return false end
  end
  return true
end

--- The state of one problem: rows = {{model =, answers = {seen...}}...},
-- k, accuracy, equiv. Returns the current decision, the indices of the
-- models to ask for one more sample, and whether the decision is settled
-- (also when nothing is left to ask: then every sample that matters is in).
function M.settle(rows, k, accuracy, equiv)
  local per_model, acc, groups = {}, {}, {}
  for i, row in ipairs(rows) do
    per_model[i] = {model = row.model, answers = row.answers, n = k}
    acc[i] = accuracy_of(accuracy, i, row.model)
    groups[i] = #row.answers > 0 and vote.count(row.answers, {equiv = equiv, n = #row.answers}) or {}
  end
  local d = vote.mux(per_model, {accuracy = accuracy, equiv = equiv})
  local open, settled = {}, true
  local function need(i)
    settled = false
    if #rows[i].answers < k then open[#open + 1] = i end
  end
  local w = d.index
  if not w then
    for i = 1, #rows do need(i) end
  else
    local m_w, r_w, a_w, equal = groups[w][1].count, k - #rows[w].answers, d.answer, equality(equiv)
    local w_open = not top_locked(groups[w], r_w)
    -- count c of another answer of j reaches W: j could win with it
    local function beyond(c, j) return c > m_w or (c == m_w and not wins_tie(acc, w, j)) end
    for j = 1, #rows do
      if j ~= w then
        local r_j, risky = k - #rows[j].answers, false
        if r_j > 0 and beyond(r_j, j) then risky = true end
        for _, g in ipairs(groups[j]) do
          if not risky and beyond(g.count + r_j, j) and not equal(a_w, g.answer) then risky = true end
        end
        if risky then
          need(j)
          w_open = true
        end
      end
    end
    if w_open then need(w) end
  end
  return d, open, settled or #open == 0
end

-- One round: n samples of each model in `which` (indices); fills rows.
local function ask(ctx, rows, which, n)
  local reqs = {}
  for i, idx in ipairs(which) do
    reqs[i] = {model = rows[idx].model, messages = ctx.base_prompt and ctx.base_prompt() or nil, n = n[i]}
  end
  local resps, err = ctx.chat_all(reqs)
  if not resps then return nil, err end
  for i, idx in ipairs(which) do
    if not resps[i] then return nil, rows[idx].model .. ": the request failed" end
    rows[idx].answers = ctx.answers(resps[i])
  end
  return true
end

--- solve(problem, ctx) -> decision (with samples_used), or nil, err.
function M.solve(_, ctx)
  local k, rows, all = ctx.opts.samples, {}, {}
  for i, m in ipairs(ctx.models) do rows[i], all[i] = {model = m, answers = {}}, i end
  local first, ns = math.min(k, (k + 1) // 2), {}
  for i = 1, #rows do ns[i] = first end
  local ok, err = ask(ctx, rows, all, ns)
  if not ok then return nil, err end
  while true do
    local d, open, settled = M.settle(rows, k, ctx.accuracy, ctx.task.equiv)
    if settled then
      local used = 0
      for _, row in ipairs(rows) do used = used + #row.answers end
      d.reason = string.format("%s (adaptive: %d of %d samples)", d.reason, used, k * #rows)
      d.samples_used = used
      return d
    end
    for i, idx in ipairs(open) do ns[i] = #rows[idx].answers + 1 end
    for i = #open + 1, #ns do ns[i] = nil end
    ok, err = ask(ctx, rows, open, ns)
    if not ok then return nil, err end
  end
end

return M
