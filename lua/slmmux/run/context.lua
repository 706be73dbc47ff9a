-- The ctx a policy gets for one problem: the one door through which it
-- calls models, and the record of every call, which results.lua turns into
-- the problem's line of results.jsonl (its transcript) and the report into
-- per-model requests, tokens and cost.
--
--   ctx.chat(req) -> resp | nil, err, info
--     req is a mux.chat request without endpoint -- {model, messages, n = k,
--     any OpenAI field, extra = {provider fields}} -- and where the call is
--     in the policy: agent = a name or number, round = an integer, role = a
--     word ("proposer", "verifier"...) -- or place = a string of one's own.
--     The place is part of the samples' identity, so two agents asking one
--     model the same thing are two samples, and a resumed run gets back the
--     samples each place had.
--     temperature, top_p and max_tokens default to the run's settings, seed
--     to the run's --seed (sample i is sent seed + i). Each choice of resp
--     gets `answer`, the task's extraction (nil when there is none).
--   ctx.chat_all(reqs) -> resps | nil, err
--     all at once, in order. With the setting partial = true a call that
--     failed for good is false in resps; nil, err only when every call
--     failed. Every call that failed for good is in ctx.failed_calls (and,
--     when the problem is still decided, in the line's failed_calls).
--   ctx.prompt() -> the task's messages for the problem (a new table each time)
--   ctx.answers(resp) -> {answer or false, ...}, one per choice
--   ctx.sample(model, k) -> record {model, calls = {{text, answer, finish_reason}}}
--   ctx.sample_all(k [, models]) -> {{model =, answers = {...}}...} in model order
--     The task's own prompt, k samples, no place: SLM-MUX's independent
--     samples (stored under the same keys as before places existed). With
--     partial = true a model that failed is left out (nil, err when all did).
-- A failed call's info is kept in ctx.error_info (the first one).
local mux = require "slmmux"

local M = {}

-- What a policy may set besides the request itself.
local PLACE_FIELDS = {agent = true, round = true, role = true}

--- Every sample of a record as an answer: the extracted string, or false.
function M.answers_of(rec)
  local answers = {}
  for i, c in ipairs(rec.calls) do
    if c.answer == nil then answers[i] = false else answers[i] = c.answer end
  end
  return answers
end

local function record_for(ctx, model)
  local rec = ctx.records[model]
  if not rec then
    rec = {model = model, calls = {}, places = {}, order = {}, requests = 0, latency_ms = 0,
      usage = {prompt_tokens = 0, completion_tokens = 0}}
    ctx.records[model] = rec
    ctx.record_order[#ctx.record_order + 1] = model
  end
  return rec
end

-- "agent=2;round=1;role=debater", or nil when the call gives none of them.
local function place_of(req)
  local parts = {}
  for _, k in ipairs({"agent", "round", "role"}) do
    if req[k] ~= nil then parts[#parts + 1] = k .. "=" .. tostring(req[k]) end
  end
  return #parts > 0 and table.concat(parts, ";") or nil
end

local function same_messages(a, b)
  if a == b then return true end
  if type(a) ~= "table" or #a ~= #b then return false end
  for i = 1, #a do
    if a[i].role ~= b[i].role or a[i].content ~= b[i].content then return false end
  end
  return true
end

-- The request as sent (defaults filled in, place fields out) and the
-- parameters the transcript records (everything but the messages).
local function request_of(ctx, req)
  if type(req) ~= "table" then error("ctx.chat: req must be a table", 3) end
  if type(req.model) ~= "string" then error("ctx.chat: req.model must be a string", 3) end
  if req.endpoint ~= nil then error("ctx.chat: req.endpoint is the run's (leave it out)", 3) end
  local o, out, params = ctx.opts, {}, {}
  for k, v in pairs(req) do
    if not PLACE_FIELDS[k] then out[k] = v end
  end
  out.messages = out.messages or ctx.prompt()
  if out.temperature == nil then out.temperature = o.temperature end
  if out.top_p == nil then out.top_p = o.top_p end
  if out.max_tokens == nil and out.max_completion_tokens == nil then out.max_tokens = o.max_tokens end
  if out.seed == nil then out.seed = ctx.seed end
  out.place = place_of(req) or req.place
  for k, v in pairs(out) do
    if k ~= "messages" and k ~= "model" and k ~= "place" then params[k] = v end
  end
  params.messages = #out.messages
  return out, params
end

local function mean_logprob(logprobs)
  if type(logprobs) ~= "table" or #logprobs == 0 then return nil end
  local sum = 0
  for _, t in ipairs(logprobs) do sum = sum + (t.logprob or 0) end
  return sum / #logprobs
end

-- Tokens of the samples this call paid for: a stored sample cost nothing now.
local function billed(resp)
  local p, c = 0, 0
  for _, ch in ipairs(resp.choices or {}) do
    if not ch.cached then
      p, c = p + (ch.prompt_tokens or 0), c + (ch.completion_tokens or 0)
    end
  end
  return p, c
end
M.billed = billed

local function fill_turn(ctx, turn, resp)
  local choices = {}
  for i, ch in ipairs(resp.choices or {}) do
    ch.answer = ctx.task.extract(ch.text, ctx.problem)
    choices[i] = {text = ch.text, answer = ch.answer, finish_reason = ch.finish_reason,
      prompt_tokens = ch.prompt_tokens, completion_tokens = ch.completion_tokens,
      cached = ch.cached or false, seed = ch.seed, mean_logprob = mean_logprob(ch.logprobs),
      reasoning_content = ch.reasoning_content}
  end
  local p, c = billed(resp)
  turn.choices, turn.usage = choices, {prompt_tokens = p, completion_tokens = c}
  turn.latency_ms = math.floor((resp.latency_ms or 0) * 10 + 0.5) / 10
  turn.cached, turn.key = resp.cached or 0, resp.key
  turn.requests, turn.attempts = resp.requests or 0, resp.attempts
  turn.system_fingerprint = resp.system_fingerprint
end

-- The per-model record: requests, tokens, latency of every call. The
-- model's own answers to the problem -- calls at no place (independent
-- samples, whatever the prompt asks besides), and calls at a place whose
-- messages are the task's prompt (a debate's first round) -- are its calls,
-- for pass@1 and self-consistency in the report; a later request at the
-- same place replaces an earlier one (k = 1, then k = 3).
local function account(ctx, turn, direct)
  local rec = record_for(ctx, turn.model)
  rec.requests = rec.requests + (turn.requests or 0)
  rec.latency_ms = rec.latency_ms + (turn.latency_ms or 0)
  if turn.usage then
    rec.usage.prompt_tokens = rec.usage.prompt_tokens + turn.usage.prompt_tokens
    rec.usage.completion_tokens = rec.usage.completion_tokens + turn.usage.completion_tokens
  end
  if not direct or not turn.choices then return end
  local place = turn.place or ""
  if not rec.places[place] then rec.order[#rec.order + 1] = place end
  local calls = {}
  for i, ch in ipairs(turn.choices) do
    calls[i] = {text = ch.text, answer = ch.answer, finish_reason = ch.finish_reason,
      turn = turn.turn, choice = i}
  end
  rec.places[place] = calls
  rec.calls = {}
  for _, pl in ipairs(rec.order) do
    for _, c in ipairs(rec.places[pl]) do rec.calls[#rec.calls + 1] = c end
  end
end

local function chat(ctx, req)
  local sent, params = request_of(ctx, req)
  local turn = {turn = #ctx.transcript + 1, model = sent.model, agent = req.agent,
    round = req.round, role = req.role, place = sent.place, request = params}
  ctx.transcript[turn.turn] = turn
  local resp, err, info = ctx.backend_chat(sent)
  if not resp then
    turn.error, turn.error_kind = tostring(err), info and info.kind
    turn.requests = info and info.attempts or 0
    ctx.error_info = ctx.error_info or info
    ctx.failed_calls[#ctx.failed_calls + 1] = {model = sent.model, place = sent.place, error = turn.error}
    account(ctx, turn, false)
    return nil, sent.model .. ": " .. tostring(err), info
  end
  fill_turn(ctx, turn, resp)
  account(ctx, turn, not sent.place or same_messages(sent.messages, ctx.base_prompt()))
  local k = sent.n or 1
  if #resp.choices < k then
    turn.error = string.format("%d of %d samples returned", #resp.choices, k)
    return nil, string.format("%s: %d of %d samples returned", sent.model, #resp.choices, k)
  end
  return resp
end

local function chat_all(ctx, reqs)
  if type(reqs) ~= "table" then error("ctx.chat_all: reqs must be an array of requests", 3) end
  local resps, errs = {}, {}
  local tasks = {}
  for i, r in ipairs(reqs) do tasks[i] = mux.spawn(chat, ctx, r) end
  local ok = 0
  for i, t in ipairs(tasks) do
    resps[i], errs[i] = mux.wait(t)
    if resps[i] then ok = ok + 1 end
  end
  for i = 1, #reqs do
    if not resps[i] then
      if not ctx.opts.partial then return nil, errs[i] end
      resps[i] = false
    end
  end
  if #reqs > 0 and ok == 0 then return nil, errs[1] end
  return resps
end

--- The ctx for one problem. o = {task, models, opts (the run's settings),
-- accuracy, seed (sent with every request when the run has one), chat =
-- function(req) -> resp | nil, err, info (the backend's)}.
function M.new(problem, o)
  local ctx = {problem = problem, task = o.task, models = o.models, opts = o.opts,
    accuracy = o.accuracy, seed = o.seed, records = {}, record_order = {}, transcript = {},
    failed_calls = {}, backend_chat = o.chat}
  local base

  function ctx.base_prompt()
    base = base or ctx.task.prompt(problem)
    return base
  end

  function ctx.prompt()
    local copy = {}
    for i, m in ipairs(ctx.base_prompt()) do
      local c = {}
      for k, v in pairs(m) do c[k] = v end
      copy[i] = c
    end
    return copy
  end

  function ctx.chat(req) return chat(ctx, req) end
  function ctx.chat_all(reqs) return chat_all(ctx, reqs) end

  function ctx.answers(resp)
    local answers = {}
    for i, ch in ipairs(resp.choices) do
      if ch.answer == nil then answers[i] = false else answers[i] = ch.answer end
    end
    return answers
  end

  function ctx.sample(model, k)
    local resp, err = chat(ctx, {model = model, messages = ctx.base_prompt(), n = k})
    if not resp then return nil, err end
    return ctx.records[model]
  end

  function ctx.sample_all(k, models)
    models = models or ctx.models
    local reqs = {}
    for i, m in ipairs(models) do reqs[i] = {model = m, messages = ctx.base_prompt(), n = k} end
    local resps, err = chat_all(ctx, reqs)
    if not resps then return nil, err end
    local per_model = {}
    for i, m in ipairs(models) do
      if resps[i] then per_model[#per_model + 1] = {model = m, answers = ctx.answers(resps[i])} end
    end
    return per_model
  end

  return ctx
end

return M
