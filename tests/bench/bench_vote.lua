-- Load for bench_vote.sh: µs per SLM-MUX decision of mux.vote.mux (the
-- Lua Algorithm 1, grouping through the C core.vote.top). One case per
-- MATH-500 problem: each model's k answers drawn from the normalized
-- reference (3 in 6), two near misses of it and a failed sample, so groups
-- form as they do in a run. CPU time (os.clock). Prints one line per
-- setting:  equiv=E k=K models=M us=X
-- -s reps=N (passes over the 500 cases per setting, default 4)
local mux = require "slmmux"
local math_answers = require "slmmux.sim.tasks.math"
local math_task = require "slmmux.tasks.math"

local reps = tonumber(mux.cli.overrides.reps or 4)
local problems = math_task.load(mux.home .. "/data/math_500.json")

local function pool(ref)
  local right = mux.math.normalize(ref)
  local a = math_answers.near_miss({reference = ref}, 1)
  local b = math_answers.near_miss({reference = ref}, 2)
  return {right, right, right, mux.math.normalize(a), mux.math.normalize(b), false}
end

local function cases(k, models, equiv)
  math.randomseed(k * 100 + models)
  local out, accuracy = {}, {}
  for m = 1, models do accuracy["m" .. m] = 0.4 + 0.1 * m end
  for i, p in ipairs(problems) do
    local choices, per_model = pool(p.reference), {}
    for m = 1, models do
      local answers = {}
      for j = 1, k do answers[j] = choices[math.random(#choices)] end
      per_model[m] = {model = "m" .. m, answers = answers}
    end
    out[i] = per_model
  end
  return out, {equiv = equiv, accuracy = accuracy}
end

local function time_us(fn, list, opts)
  for _, pm in ipairs(list) do fn(pm, opts) end   -- warm up
  local t0 = os.clock()
  for _ = 1, reps do
    for _, pm in ipairs(list) do fn(pm, opts) end
  end
  return (os.clock() - t0) / (reps * #list) * 1e6
end

for _, setting in ipairs({{3, 2, "math"}, {3, 5, "math"}, {9, 2, "math"}, {9, 5, "math"},
    {3, 2, "exact"}, {9, 5, "exact"}}) do
  local k, models, equiv = setting[1], setting[2], setting[3]
  local list, opts = cases(k, models, equiv)
  for _, pm in ipairs(list) do   -- a decision each, or the figures time nothing
    assert(mux.vote.mux(pm, opts).reason ~= "no_answer", "no decision")
  end
  print(string.format("equiv=%s k=%d models=%d us=%.3f", equiv, k, models,
    time_us(mux.vote.mux, list, opts)))
end
