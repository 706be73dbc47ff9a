-- What a run writes: one line of results.jsonl per problem, the output
-- directory, and the writer that appends lines only once the samples they
-- name are committed.
--
-- A line (one JSON object; every string valid UTF-8, RFC 8259: invalid
-- bytes a model sent are U+FFFD here and byte for byte in the store):
--   id, problem, reference
--   final_answer, selected_model, confidence, reason, early_exit, correct
--     (true/false; null when the problem failed: then error, error_info)
--   models: [{model, calls = [{answer, finish_reason, correct, turn, choice}],
--             votes = [{answer, count}], top_answer, confidence, top_correct,
--             usage = {prompt_tokens, completion_tokens}, requests, latency_ms}]
--     every model called, the run's models first. calls are the model's
--     own answers (pass@1, self-consistency: see run/context.lua), each
--     naming its turn and choice in the transcript, where its text is; usage,
--     requests and latency count every call of the model: tokens paid for
--     (a stored sample costs none), HTTP requests sent (retries too).
--   transcript: [{turn, model, agent, round, role, place, request =
--                 {n, temperature, max_tokens, seed, logprobs, ..., messages =
--                 how many}, choices = [{text, answer, correct, finish_reason,
--                 prompt_tokens, completion_tokens, cached, seed, mean_logprob,
--                 reasoning_content}], usage, latency_ms, cached, requests,
--                 attempts, key, system_fingerprint, error, error_kind}]
--     every call the policy made through ctx, in the order it made them.
--     agent, round and role are the policy's (absent when it gave none);
--     key is the SHA-256 (hex) of the samples' identity, under which the
--     store holds the whole request; seed is the seed sample i was sent.
--   failed_calls: [{model, place, error}]: calls that failed for good in a
--     problem that was still decided (the setting partial = true lets the
--     other calls vote).
local cjson = require "cjson"
local data = require "slmmux.data"
local errors = require "slmmux.errors"
local context = require "slmmux.run.context"
local report = require "slmmux.report"

local mux = require "slmmux"

local M = {}

-- task.score, once per distinct answer of a line: the same answers come
-- back in many calls and turns, and a MATH equivalence is not free.
local function scorer(task, problem)
  local known = {}
  return function(answer)
    if answer == nil then return false end
    local v = known[answer]
    if v == nil then
      v = task.score(answer, problem) and true or false
      known[answer] = v
    end
    return v
  end
end

local function model_entry(task, problem, rec, score)
  local answers = context.answers_of(rec)
  for _, c in ipairs(rec.calls) do c.correct = score(c.answer) end
  local groups = #answers > 0 and mux.vote.count(answers, {equiv = task.equiv}) or {}
  local votes = {}
  for i, g in ipairs(groups) do votes[i] = {answer = g.answer, count = g.count} end
  local top = groups[1]
  local calls = {}   -- the texts are the transcript's
  for i, c in ipairs(rec.calls) do
    local out = {}
    for k, v in pairs(c) do if k ~= "text" then out[k] = v end end
    calls[i] = out
  end
  return {model = rec.model, calls = calls, usage = rec.usage, requests = rec.requests,
    latency_ms = rec.latency_ms, votes = top and votes or nil,
    top_answer = top and top.answer, confidence = top and top.count / #answers or 0,
    top_correct = top ~= nil and score(top.answer)}
end

local function score_transcript(transcript, score)
  for _, turn in ipairs(transcript) do
    for _, ch in ipairs(turn.choices or {}) do ch.correct = score(ch.answer) end
  end
  return transcript
end

-- s with every maximal invalid UTF-8 sequence replaced by U+FFFD.
local function valid_utf8(s)
  if utf8.len(s) then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local len, bad = utf8.len(s, i)
    if len then out[#out + 1] = s:sub(i); break end
    out[#out + 1] = s:sub(i, bad - 1)
    out[#out + 1] = "\u{FFFD}"
    i = bad + 1
    -- the continuation bytes of a cut-off sequence go with it
    while i <= n and s:byte(i) >= 0x80 and s:byte(i) < 0xC0 do i = i + 1 end
  end
  return table.concat(out)
end
M.valid_utf8 = valid_utf8

-- v with every string (keys too) valid UTF-8, so that the line is JSON.
local function clean(v, seen)
  if type(v) == "string" then return valid_utf8(v) end
  if type(v) ~= "table" or seen[v] then return v end
  seen[v] = true
  local fixes = {}
  for k, x in pairs(v) do
    local k2, x2 = clean(k, seen), clean(x, seen)
    if k2 ~= k or x2 ~= x then fixes[#fixes + 1] = {k, k2, x2} end
  end
  for _, f in ipairs(fixes) do
    v[f[1]] = nil
    v[f[2]] = f[3]
  end
  return v
end

local function models_of(models, ctx)
  local list, seen = {}, {}
  for _, m in ipairs(models) do
    if ctx.records[m] then list[#list + 1], seen[m] = m, true end
  end
  for _, m in ipairs(ctx.record_order or {}) do
    if not seen[m] then list[#list + 1], seen[m] = m, true end
  end
  return list
end

--- The results.jsonl line (a table, see the header) of one problem: ctx's
-- records, the run's models first, its transcript, and the decision or the
-- error that replaced it.
function M.line(task, models, problem, ctx, decision, err)
  local score = scorer(task, problem)
  local line = {id = problem.id, problem = problem.text, reference = task.reference(problem),
    models = {}, transcript = score_transcript(ctx.transcript or {}, score)}
  for _, m in ipairs(models_of(models, ctx)) do
    line.models[#line.models + 1] = model_entry(task, problem, ctx.records[m], score)
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
  line.correct = score(answer)
  if ctx.failed_calls and #ctx.failed_calls > 0 then line.failed_calls = ctx.failed_calls end
  return line
end

--- The JSON text of a line: valid UTF-8 even when a model's text is not
-- (checked once over the whole text; only a line that fails it is cleaned).
function M.encode(line)
  local text = report.json(line)
  if utf8.len(text) then return text end
  return report.json(clean(line, {}))
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
    -- 100 ms between commits, in slices: the run's end is noticed within
    -- 10 ms (a whole 100 ms sleep added up to 0.1 s to every run's wall)
    for _ = 1, 10 do
      if st.done and not finished then break end
      mux.sleep(0.01)
    end
  end
  f:close()
end

return M
