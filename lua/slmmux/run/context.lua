-- The ctx a policy gets for one problem: how it asks the models for
-- samples, and the record of every sample asked for, which results.lua
-- turns into the problem's line of results.jsonl.
local mux = require "slmmux"

local M = {}

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
    rec = {model = model, calls = {}, requests = 0, latency_ms = 0,
      usage = {prompt_tokens = 0, completion_tokens = 0}}
    ctx.records[model] = rec
  end
  return rec
end

local function take_response(ctx, rec, resp, k)
  rec.usage.prompt_tokens = rec.usage.prompt_tokens + (resp.usage and resp.usage.prompt_tokens or 0)
  rec.usage.completion_tokens = rec.usage.completion_tokens
    + (resp.usage and resp.usage.completion_tokens or 0)
  rec.latency_ms = rec.latency_ms + (resp.latency_ms or 0)
  local choices = resp.choices or {}
  if #choices < k then
    return nil, string.format("%s: %d of %d samples returned", rec.model, #choices, k)
  end
  local calls = {}
  for i = 1, k do
    local c = choices[i]
    calls[i] = {text = c.text, answer = ctx.task.extract(c.text, ctx.problem),
      finish_reason = c.finish_reason}
  end
  rec.calls = calls   -- a later, larger request repeats the earlier samples
  return rec
end

--- The ctx for one problem. o = {task, models, opts, accuracy,
-- chat = function(req) -> resp | nil, err, info} (mux.chat or a stand-in).
-- ctx.sample(model, k) -> record {model, calls = {{text, answer, finish_reason}}}
-- ctx.sample_all(k [, models]) -> {{model =, answers = {...}}...} in model order
-- Both return nil, errmsg when a request failed for good (ctx.error_info says why).
function M.new(problem, o)
  local ctx = {problem = problem, task = o.task, models = o.models, opts = o.opts,
    accuracy = o.accuracy, records = {}}
  local messages

  function ctx.sample(model, k)
    messages = messages or ctx.task.prompt(problem)
    local rec = record_for(ctx, model)
    rec.requests = rec.requests + 1
    local resp, err, info = o.chat({model = model, messages = messages, n = k,
      temperature = o.opts.temperature, top_p = o.opts.top_p, max_tokens = o.opts.max_tokens})
    if not resp then
      ctx.error_info = ctx.error_info or info
      return nil, model .. ": " .. tostring(err)
    end
    return take_response(ctx, rec, resp, k)
  end

  function ctx.sample_all(k, models)
    models = models or ctx.models
    local recs, errs = {}, {}
    if #models == 1 then
      recs[1], errs[1] = ctx.sample(models[1], k)
    else
      local tasks = {}
      for i, m in ipairs(models) do tasks[i] = mux.spawn(ctx.sample, m, k) end
      for i, t in ipairs(tasks) do recs[i], errs[i] = mux.wait(t) end
    end
    local per_model = {}
    for i, m in ipairs(models) do
      if not recs[i] then return nil, errs[i] end
      per_model[i] = {model = m, answers = M.answers_of(recs[i])}
    end
    return per_model
  end

  return ctx
end

return M
