-- mux.vote.panel: offline votes over stored samples (src/answers/replay.c)
-- give the decisions of slmmux.vote on the same samples. Random panels:
-- every trial's k-subset (panel:subset) is voted on by vote.mux,
-- vote.majority and self-consistency in Lua, and the C replay must count
-- the same right decisions per problem; the subsets are uniform and in
-- sample order, and misuse is named.
local mux = require "slmmux"
local vote = mux.vote

local pass, fail = 0, 0
local function check(cond, msg)
  if cond then pass = pass + 1 else fail = fail + 1; print("FAIL " .. msg) end
end

local state = 12345
local function rand(n)   -- 1..n, a fixed LCG so failures repeat
  state = (state * 1103515245 + 12345) % 2147483648
  return state % n + 1
end

local function random_panel()
  local M, P, S = rand(4), rand(6), rand(6)
  local classes, right = {}, {}
  for p = 1, P do
    right[p] = {}
    for c = 1, rand(4) do right[p][c] = rand(2) == 1 end
  end
  for m = 1, M do
    classes[m] = {}
    for p = 1, P do
      local row = {}
      for s = 1, S do row[s] = rand(#right[p] + 1) - 1 end   -- 0: no answer
      classes[m][p] = row
    end
  end
  local acc = {}
  for m = 1, M do
    local r = rand(4)
    acc[m] = r == 1 and -1 or (r == 2 and 0.5) or rand(3) / 4   -- unknown, ties, values
  end
  return {M = M, P = P, S = S, classes = classes, right = right, acc = acc}
end

local function answers_of(t, m, p, idx)
  local out = {}
  for i, s in ipairs(idx) do
    local c = t.classes[m][p][s]
    out[i] = c > 0 and ("c" .. c) or false
  end
  return out
end

local function right_of(t, p, answer)
  if not answer then return false end
  return t.right[p][tonumber(answer:sub(2))] == true
end

-- The Lua decisions of trial tr for problem p with k samples.
local function lua_decisions(panel, t, tr, p, k, seed, models)
  local per_model, flat = {}, {}
  for j, m in ipairs(models) do
    local a = answers_of(t, m, p, panel:subset(tr, m, p, k, seed))
    per_model[j] = {model = "m" .. m, answers = a, n = k}
    for _, x in ipairs(a) do flat[#flat + 1] = x end
  end
  local accuracy = {}
  for j, m in ipairs(models) do accuracy[j] = t.acc[m] >= 0 and t.acc[m] or nil end
  local d = vote.mux(per_model, {accuracy = accuracy})
  local maj = vote.majority(flat, {n = #flat})
  local sc = vote.majority(per_model[1].answers, {n = k})
  return right_of(t, p, d.answer), right_of(t, p, maj), right_of(t, p, sc)
end

for case = 1, 300 do
  local t = random_panel()
  local panel = mux.vote.panel{samples = t.S, classes = t.classes, right = t.right}
  local k, trials, seed = rand(t.S), rand(5), rand(1000)
  local models = {}
  for m = 1, t.M do if rand(3) > 1 or m == 1 then models[#models + 1] = m end end
  local want = {mux = {}, majority = {}, sc = {}}
  for p = 1, t.P do
    want.mux[p], want.majority[p], want.sc[p] = 0, 0, 0
    for tr = 1, trials do
      local a, b, c = lua_decisions(panel, t, tr, p, k, seed, models)
      want.mux[p] = want.mux[p] + (a and 1 or 0)
      want.majority[p] = want.majority[p] + (b and 1 or 0)
      want.sc[p] = want.sc[p] + (c and 1 or 0)
    end
  end
  for _, rule in ipairs({"mux", "majority", "sc"}) do
    local ms = rule == "sc" and {models[1]} or models
    local per_trial, per_problem = panel:replay{rule = rule, models = ms, k = k, trials = trials,
      seed = seed, accuracy = t.acc}
    local same, total, sum = true, 0, 0
    for p = 1, t.P do
      same = same and per_problem[p] == want[rule][p]
      total = total + want[rule][p]
    end
    for _, n in ipairs(per_trial) do sum = sum + n end
    check(same and sum == total and #per_trial == trials,
      string.format("case %d rule %s k=%d/%d: C and Lua disagree", case, rule, k, t.S))
  end
end

-- subsets: sorted, distinct, uniform (each index taken k/S of the time), all when k = S
do
  local classes, right = {{}}, {}
  for p = 1, 1 do right[p] = {true} classes[1][p] = {1, 1, 1, 1, 1, 1, 1, 1, 1} end
  local panel = mux.vote.panel{samples = 9, classes = classes, right = right}
  local seen, ok = {}, true
  for tr = 1, 9000 do
    local idx = panel:subset(tr, 1, 1, 3, 7)
    ok = ok and #idx == 3 and idx[1] < idx[2] and idx[2] < idx[3] and idx[1] >= 1 and idx[3] <= 9
    for _, s in ipairs(idx) do seen[s] = (seen[s] or 0) + 1 end
  end
  check(ok, "subsets are 3 sorted distinct indices")
  local uniform = true
  for s = 1, 9 do uniform = uniform and math.abs(seen[s] - 3000) < 250 end
  check(uniform, "every index is drawn about k/S of the time")
  local all = panel:subset(5, 1, 1, 9)
  check(#all == 9 and all[1] == 1 and all[9] == 9, "k = S is every sample in order")
  local a, b = panel:subset(3, 1, 1, 4, 99), panel:subset(3, 1, 1, 4, 99)
  check(table.concat(a, ",") == table.concat(b, ","), "a subset is a function of its arguments")
  local m, p, s = panel:shape()
  check(m == 1 and p == 1 and s == 9, "shape")
end

-- misuse
local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  check(not ok and tostring(err):find(pattern, 1, true), "expected error: " .. pattern
    .. " (got " .. tostring(err) .. ")")
end
local good = {samples = 2, classes = {{{1, 0}}}, right = {{true}}}
local panel = mux.vote.panel(good)
raises("mux.vote.panel: args.samples", mux.vote.panel, {classes = {}, right = {}})
raises("args.classes[1][1] must list 3 classes", mux.vote.panel, {samples = 3, classes = {{{1, 0}}}, right = {{true}}})
raises("args.classes[1][1][1] must be a class 0..1", mux.vote.panel, {samples = 2, classes = {{{2, 0}}}, right = {{true}}})
raises("unknown field args.extra", mux.vote.panel, {samples = 2, classes = {{{1, 0}}}, right = {{true}}, extra = 1})
raises("opts.rule must be", panel.replay, panel, {models = {1}, rule = "vote"})
raises("opts.k must be an integer from 1 to 2", panel.replay, panel, {models = {1}, k = 3})
raises("opts.models[1] must be an integer from 1 to 1", panel.replay, panel, {models = {2}})
raises("one model for rule \"sc\"", panel.replay, panel, {models = {1, 1}, rule = "sc"})
raises("panel:replay: self must be", panel.replay, {}, {models = {1}})

print(string.format("%d passed, %d failed", pass, fail))
if fail > 0 then os.exit(1) end
