-- Used by test_analysis_*.sh: the offline SLM-MUX of slmmux.analysis
-- (mux.vote.panel over a run's stored samples, ties in model order) must
-- decide every problem of an SLM-MUX run without tie-break accuracies as
-- the run itself did. Args: RUN_DIR SAMPLES MODEL... ; prints "replay ok N".
local mux = require "slmmux"
local panel = require "slmmux.analysis.panel"
local runreport = require "slmmux.analysis.runreport"

local args = mux.cli.args
local dir, samples, models = args[1], tonumber(args[2]), {}
for i = 3, #args do models[#models + 1] = args[i] end
local lines = runreport.lines(dir)
local P = assert(panel.build(lines, models, samples, args.equiv or "math"))
local idx = {}
for m = 1, #models do idx[m] = m end
local _, per_problem = panel.native(P):replay{rule = "mux", models = idx, k = samples}
local bad = 0
for p, line in ipairs(P.lines) do
  if (per_problem[p] == 1) ~= (line.correct == true) then
    bad = bad + 1
    print("differs on " .. tostring(line.id))
  end
end
assert(bad == 0, bad .. " problems decided differently offline")
print("replay ok " .. #P.ids)
