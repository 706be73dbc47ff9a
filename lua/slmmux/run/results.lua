-- What a run writes: one line of results.jsonl per problem (the decision,
-- every sample, each model's votes), the output directory, and the writer
-- that appends lines only once the samples they name are committed.
local cjson = require "cjson"
local data = require "slmmux.data"
local context = require "slmmux.run.context"

local mux = require "slmmux"

local M = {}

local function model_entry(task, problem, rec)
  local answers = context.answers_of(rec)
  for _, c in ipairs(rec.calls) do c.correct = c.answer ~= nil and task.score(c.answer, problem) end
  local groups = #answers > 0 and mux.vote.count(answers, {equiv = task.equiv}) or {}
  local votes = {}
  for i, g in ipairs(groups) do votes[i] = {answer = g.answer, count = g.count} end
  local top = groups[1]
  return {model = rec.model, calls = rec.calls, usage = rec.usage, requests = rec.requests,
    latency_ms = rec.latency_ms, votes = top and votes or nil,
    top_answer = top and top.answer, confidence = top and top.count / #answers or 0,
    top_correct = top ~= nil and task.score(top.answer, problem)}
end

--- The results.jsonl line (a table) of one problem: ctx's records in the
-- order of `models`, and the decision or the error that replaced it.
function M.line(task, models, problem, ctx, decision, err)
  local line = {id = problem.id, problem = problem.text, reference = task.reference(problem),
    models = {}}
  for _, m in ipairs(models) do
    if ctx.records[m] then line.models[#line.models + 1] = model_entry(task, problem, ctx.records[m]) end
  end
  if err or type(decision) ~= "table" then
    line.error = tostring(err or "the policy returned no decision")
    line.error_info = ctx.error_info
    line.correct = cjson.null
    return line
  end
  local answer = decision.answer
  if answer == false then answer = nil end
  line.final_answer, line.selected_model = answer, decision.model
  line.confidence, line.reason = decision.confidence, decision.reason
  line.early_exit = decision.early_exit or nil
  line.correct = answer ~= nil and task.score(answer, problem) or false
  return line
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- The run directory: cfg.out, else runs/TASK-POLICY-DATE (numbered when
-- taken), created with an empty results.jsonl.
function M.out_dir(cfg, task_name, policy)
  local dir = cfg.out
  if not dir then
    local base = string.format("runs/%s-%s-%s", task_name:gsub("[^%w%._-]", "_"),
      policy:gsub("[^%w%._-]", "_"), os.date("%Y%m%d-%H%M%S"))
    dir = base
    for i = 2, math.huge do
      if not exists(dir .. "/results.jsonl") then break end
      dir = base .. "-" .. i
    end
  end
  if not os.execute("mkdir -p -- " .. data.quote(dir)) then
    error(string.format("cannot create the output directory %s", dir), 0)
  end
  local f, err = io.open(dir .. "/results.jsonl", "w")
  if not f then error(string.format("cannot write %s", err), 0) end
  f:close()
  return dir
end

--- The writer task. Finished lines (JSON text) wait in st.queue; every
-- 100 ms it commits the sample store and only then appends them, so a line
-- never names uncommitted samples. Ends after st.done, queue flushed.
function M.writer(st, path)
  local f = assert(io.open(path, "a"))
  local function flush()
    if #st.queue == 0 then return end
    local lines = st.queue
    st.queue = {}
    mux.commit()
    for _, l in ipairs(lines) do f:write(l, "\n") end
    f:flush()
  end
  while true do
    local finished = st.done
    flush()
    if finished then break end
    mux.sleep(0.1)
  end
  f:close()
end

return M
