-- Cross-fitting: a problem's tie-break accuracies are measured on the other
-- folds only, never on its own samples; the accuracies a policy sees for a
-- problem are its fold's; a disjoint source measures correct samples over
-- answered samples, failed requests counted apart.
local mux = require "slmmux"
local context = require "slmmux.run.context"
local runner = require "slmmux.run"
local validation = require "slmmux.run.validation"

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end
local function close(a, b) return a ~= nil and b ~= nil and math.abs(a - b) < 1e-9 end

-- Ten problems; model "a" is right on problem i exactly when i <= 4, "b"
-- on the even ones; "b" fails for good on problem 10.
local problems = {}
for i = 1, 10 do problems[i] = {id = "p" .. i, text = "q" .. i, reference = "R", index = i} end
local task = {name = "toy", equiv = "exact", extract = function(t) return t end,
  prompt = function(p) return {{role = "user", content = p.text}} end,
  score = function(a, p) return a == p.reference end}
local function right(m, p) return (m == "a" and p.index <= 4) or (m == "b" and p.index % 2 == 0) end
local function chat_for(p)
  return function(req)
    if req.model == "b" and p.index == 10 then return nil, "HTTP 503", {kind = "http"} end
    local choices = {}
    for i = 1, req.n do
      choices[i] = {text = right(req.model, p) and "R" or "W", finish_reason = "stop",
        prompt_tokens = 1, completion_tokens = 1}
    end
    return {choices = choices, usage = {prompt_tokens = 1, completion_tokens = 1}}
  end
end
local st = {cfg = {models = {"a", "b"}, concurrency = 4, temperature = 0.3, max_tokens = 9},
  task = task, progress = {}}
local function new_context(p, models)
  return context.new(p, {task = task, models = models, opts = st.cfg, chat = chat_for(p)})
end

local acc, acc_for, detail = validation.run(st,
  {kind = "crossfit", problems = problems, samples = 2, folds = 5}, new_context)
check("overall: a right on 4 of 10, b on 4 of 9 answered", close(acc.a, 0.4) and close(acc.b, 4 / 9))
check("b's failed request is counted, not scored", detail.models[2].errors == 1
  and detail.models[2].accuracy.n == 18)
-- Fold f holds problems f and f + 5.
for i, p in ipairs(problems) do
  local f = (i - 1) % 5 + 1
  local a_right, a_n, b_right, b_n = 0, 0, 0, 0
  for _, q in ipairs(problems) do
    if (q.index - 1) % 5 + 1 ~= f then
      a_n = a_n + 2
      if right("a", q) then a_right = a_right + 2 end
      if q.index ~= 10 then
        b_n = b_n + 2
        if right("b", q) then b_right = b_right + 2 end
      end
    end
  end
  local got = acc_for(p)
  check(string.format("problem %d (fold %d): accuracies from the other folds only", i, f),
    close(got.a, a_right / a_n) and close(got.b, b_right / b_n),
    string.format("a %s b %s", tostring(got.a), tostring(got.b)))
end
check("the folds are in the detail", #detail.folds == 5 and detail.folds[1].problems == 2
  and detail.folds[1].measured_on == 8 and detail.tokens_shared > 0)

local dacc, dfor = validation.run(st, {kind = "data", problems = problems, samples = 1}, new_context)
check("a disjoint source: one accuracy for every problem", close(dacc.a, 0.4)
  and dfor(problems[1]) == dacc and dfor(problems[7]) == dacc)

-- In a run: the ctx.accuracy of each problem is its fold's.
local data_path = os.tmpname()
local f = assert(io.open(data_path, "w"))
for i = 1, 12 do f:write(string.format('{"problem": "toy %d", "answer": "%d"}\n', i, i)) end
f:close()
local seen = {}
local function solve(problem, ctx)
  seen[problem.id] = ctx.accuracy
  local per_model, err = ctx.sample_all(ctx.opts.samples)
  if not per_model then return nil, err end
  return {answer = per_model[1].answers[1], model = per_model[1].model, confidence = 1}
end
local out = os.tmpname()
os.remove(out)
local s = runner.run({task = "math", data = data_path, models = {"good", "fair"}, backend = "sim",
  quiet = true, samples = 3, validation = "crossfit", folds = 3, solve = solve,
  profiles = {good = {accuracy = 0.7, latency_ms = 1, tokens = 50},
    fair = {accuracy = 0.4, latency_ms = 1, tokens = 50}}},
  {overrides = {}, out = out})
local all_ok = true
for i = 1, 12 do
  local fold = s.validation.folds[(i - 1) % 3 + 1].accuracy
  local got = seen["math-" .. i]
  all_ok = all_ok and got ~= nil and got.good == fold.good and got.fair == fold.fair
end
check("a run gives each problem its fold's accuracies", all_ok)
check("the summary's overall accuracies are all folds'", s.models[1].validation_accuracy
  == s.validation.models[1].accuracy.value)
os.remove(data_path)
os.execute("rm -rf -- '" .. out .. "'")

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
