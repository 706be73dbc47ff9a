-- Validation: before the run, each model answers the held-out problems
-- once; its accuracy there breaks SLM-MUX confidence ties (and picks the
-- model of policy `single`).
local report = require "slmmux.report"

local mux = require "slmmux"

local M = {}

--- Accuracy {[model] = acc} over `problems` (models without a single
-- answered problem left out), and the detail for summary.json. Requests
-- that fail are counted per model and left out of its accuracy.
-- new_context(problem, models) makes the ctx of one request.
function M.run(st, problems, new_context)
  local jobs, right, n, errors, tokens = {}, {}, {}, {}, 0
  for _, m in ipairs(st.cfg.models) do
    right[m], n[m], errors[m] = 0, 0, 0
    for _, p in ipairs(problems) do jobs[#jobs + 1] = {p, m} end
  end
  local p = st.progress
  p.phase, p.done, p.total = "validation", 0, #jobs
  mux.map(jobs, function(job)
    local problem, m = job[1], job[2]
    local ctx = new_context(problem, {m})
    local rec = ctx.sample(m, 1)
    local usage = ctx.records[m].usage
    tokens = tokens + usage.prompt_tokens + usage.completion_tokens
    if not rec then errors[m] = errors[m] + 1
    else
      n[m] = n[m] + 1
      local a = rec.calls[1].answer
      if a ~= nil and st.task.score(a, problem) then right[m] = right[m] + 1 end
    end
    p.done = p.done + 1
  end, {concurrency = st.cfg.concurrency})
  local accuracy, detail = {}, {problems = #problems, models = {}, tokens = tokens}
  for _, m in ipairs(st.cfg.models) do
    local a = report.accuracy(right[m], n[m])
    if n[m] > 0 then accuracy[m] = a.value end
    detail.models[#detail.models + 1] = {model = m, accuracy = a, errors = errors[m]}
  end
  return accuracy, detail
end

return M
