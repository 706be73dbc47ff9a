-- The transport's floor for bench_debate.sh: 3,000 bare mux.chat calls, one
-- sample each, the size of a debate's first-round request, no ctx, no
-- results: what the same run costs below the policy layer.
local mux = require "slmmux"
local SYSTEM = "You are a helpful math assistant. Solve the problem step by step, "
  .. "then give your final answer in LaTeX as \\boxed{...}."
local list = {}
for i = 1, 3000 do list[i] = i end
mux.map(list, function(i)
  assert(mux.chat{model = "model-a", temperature = 0.3, max_tokens = 2048, place = "agent=" .. i % 3,
    messages = {{role = "system", content = SYSTEM},
      {role = "user", content = "Problem:\n" .. i .. string.rep(" a problem statement", 12)}}})
end, {concurrency = 500})
