-- What a run writes: one line of results.jsonl per problem (the decision,
-- every sample, each model's votes), the output directory, and the writer
-- that appends lines only once the samples they name are committed.
local cjson = require "cjson"
local data = require "slmmux.data"
local errors = require "slmmux.errors"
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

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- Writes text to path through a temporary file and a rename, so that a
-- failure (a full disk) leaves the old file whole.
local function replace_file(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error("cannot write " .. err, 0) end
  local ok, werr = f:write(text)
  if ok then ok, werr = f:flush() end
  f:close()
  if ok then ok, werr = os.rename(tmp, path) end
  if not ok then
    os.remove(tmp)
    error(string.format("cannot write %s: %s", path, tostring(werr)), 0)
  end
end

--- The run directory: cfg.out, else runs/TASK-POLICY-DATE (numbered when
-- taken), created with results.jsonl (an existing one is left for resume).
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
  local f, err = io.open(dir .. "/results.jsonl", "a")
  if not f then error(string.format("cannot write %s", err), 0) end
  f:close()
  return dir
end

-- The complete lines of text (a results.jsonl) and the length they span;
-- a last line without its newline or not JSON is torn (a crash or a full
-- disk mid-write); a bad line before the last is an error.
local function complete_lines(text, path)
  local lines, pos, lineno = {}, 1, 0
  while pos <= #text do
    local nl = text:find("\n", pos, true)
    local ok, line = false, nil
    if nl then ok, line = pcall(cjson.decode, text:sub(pos, nl - 1)) end
    if not (ok and type(line) == "table" and line.id ~= nil) then
      if nl and nl < #text then
        error(string.format("%s:%d: not a results line; move the file away to start over",
          path, lineno + 1), 0)
      end
      break
    end
    lineno = lineno + 1
    lines[lineno] = line
    pos = nl + 1
  end
  return lines, pos - 1
end

--- The lines (tables) of the problems an earlier run of the same settings
-- finished in dir, after repairing its results.jsonl: a torn last line is
-- cut off (its problem runs again, from the store). identity (text) names
-- the settings; dir/run.json keeps it. Settings that differ from those of
-- the lines in dir are a usage error; a dir without run.json starts over.
function M.resume(dir, identity)
  local path, id_path = dir .. "/results.jsonl", dir .. "/run.json"
  local before = read_all(id_path)
  local text = read_all(path) or ""
  if before ~= identity then
    if before and text ~= "" then
      errors.usage(string.format("%s holds results of other settings (see %s); use another --out "
        .. "or remove the directory", dir, id_path))
    end
    replace_file(path, "")
    replace_file(id_path, identity)
    return {}
  end
  local lines, good = complete_lines(text, path)
  if good < #text then
    replace_file(path, text:sub(1, good))
    io.stderr:write(string.format("slmmux: %s: cut off a torn last line (%d bytes); its problem "
      .. "runs again\n", path, #text - good))
  end
  if #lines > 0 then
    io.stderr:write(string.format("slmmux: resuming %s: %d problems already done\n", dir, #lines))
  end
  return lines
end

-- How long the writer waits for a store another process keeps locked
-- before it gives up on committing (the samples are then lost).
local LOCKED_GIVE_UP_S = 120

--- The writer task. Finished lines (JSON text) wait in st.queue; every
-- 100 ms it commits the sample store and only then appends them, so a line
-- never names uncommitted samples. A store locked by another process only
-- delays the lines; a failed commit or write stops the run (st.fail) with a
-- message naming the file. Ends after st.done, queue flushed.
function M.writer(st, path)
  local f, err = io.open(path, "a")
  if not f then st.fail("cannot write " .. err) return end
  local locked_since
  local function flush()
    if #st.queue == 0 then return true end
    local ok, cerr, busy = mux.commit()
    if not ok and busy then
      locked_since = locked_since or mux.now()
      if mux.now() - locked_since < LOCKED_GIVE_UP_S then return true end
    end
    if not ok then return nil, cerr end
    locked_since = nil
    local lines = st.queue
    st.queue = {}
    local wok, werr = f:write(table.concat(lines, "\n"), "\n")
    if wok then wok, werr = f:flush() end
    if not wok then return nil, string.format("cannot write %s: %s", path, tostring(werr)) end
    return true
  end
  while true do
    local finished = st.done
    local ok, ferr = flush()
    if not ok then st.fail(ferr) break end
    if finished and #st.queue == 0 then break end
    mux.sleep(0.1)
  end
  f:close()
end

return M
