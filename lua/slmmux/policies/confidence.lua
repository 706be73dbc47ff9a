-- SLM-MUX with other confidence signals. Algorithm 1 of Wang et al.
-- (2025) keeps its steps -- every model samples k answers independently,
-- each model's answer is its most common one, the most confident model's
-- answer wins, ties to the higher validation accuracy -- and only the
-- confidence of a model's answer changes (-s confidence=...):
--   consistency  the share of its k samples that give it (Algorithm 1 itself)
--   verbalized   the confidence the model states ("Confidence: N%", asked for
--                in the prompt), averaged over the samples that give it
--   logprob      exp of the mean token log-prob of the answer where the
--                samples state it (the server must return logprobs)
-- Over frontier models (-s models=...) these are the paper's frontier-LLM
-- variants; registered as mux_verbalized and mux_logprob.
local errors = require "slmmux.errors"
local vote = require "slmmux.vote"

local M = {}

local ASK = "\n\nAfter your final answer, state how confident you are that it is correct, "
  .. "on a line of its own: 'Confidence: N%' (N from 0 to 100)."

local function stated(text)
  local n = text and tonumber(text:match("[Cc]onfidence:%s*(%d+%.?%d*)%s*%%"))
  return n and math.min(n, 100) / 100 or 0
end

-- The mean log-prob of the tokens that state answer (its last place in
-- the text, else the text's last line, where the answer is stated).
local function answer_logprob(choice)
  local toks, text = choice.logprobs, choice.text or ""
  if type(toks) ~= "table" or #toks == 0 then return nil end
  local i, j, from = nil, nil, 1
  while choice.answer do
    local a, b = text:find(choice.answer, from, true)
    if not a then break end
    i, j, from = a, b, a + 1
  end
  if not i then i, j = (text:find("[^\n]*$")), #text end
  local at, sum, n = 1, 0, 0
  for _, t in ipairs(toks) do
    local stop = at + #(t.token or "") - 1
    if stop >= i and at <= j then sum, n = sum + (t.logprob or 0), n + 1 end
    at = stop + 1
  end
  return n > 0 and sum / n or toks[#toks].logprob
end

local SIGNALS = {
  consistency = function(group, k) return #group / k end,
  verbalized = function(group)
    local sum = 0
    for _, ch in ipairs(group) do sum = sum + stated(ch.text) end
    return sum / #group
  end,
  logprob = function(group, _, model)
    local sum = 0
    for _, ch in ipairs(group) do
      local lp = answer_logprob(ch)
      if not lp then errors.config(model .. ": the server returned no logprobs (confidence=logprob needs them)") end
      sum = sum + lp
    end
    return math.exp(sum / #group)
  end,
}

local function same(a, b, equiv)
  local _, n = vote.majority({a, b}, {equiv = equiv})
  return n == 2
end

-- A model's top answer and its confidence, as vote.select reads them: a
-- count out of k, the confidence in millionths (1 more, so that an answer
-- stated with no confidence still counts as an answer).
local function top(resp, model, signal, ctx)
  local answers = ctx.answers(resp)
  local t = vote.top({model = model, answers = answers}, ctx.task.equiv)
  if t.answer == nil then return {model = model, count = 0, k = 1} end
  local group = {}
  for i, a in ipairs(answers) do
    if a and same(t.answer, a, ctx.task.equiv) then group[#group + 1] = resp.choices[i] end
  end
  local c = SIGNALS[signal](group, #answers, model)
  return {model = model, answer = t.answer, count = 1 + math.floor(c * 1e6 + 0.5), k = 1000001}
end

function M.solve_with(signal, ctx)
  if not SIGNALS[signal] then
    errors.usage("-s confidence=" .. tostring(signal) .. ": expected consistency, verbalized or logprob")
  end
  local reqs = {}
  for i, m in ipairs(ctx.models) do
    local messages = ctx.prompt()
    if signal == "verbalized" then messages[#messages].content = messages[#messages].content .. ASK end
    reqs[i] = {model = m, messages = messages, n = ctx.opts.samples, logprobs = signal == "logprob" or nil}
  end
  local resps, err = ctx.chat_all(reqs)
  if not resps then return nil, err end
  local tops = {}
  for i, m in ipairs(ctx.models) do
    if resps[i] then tops[#tops + 1] = top(resps[i], m, signal, ctx) end
  end
  local d = vote.select(tops, ctx.accuracy)
  d.reason = signal .. (d.reason and (": " .. d.reason) or "")
  return d
end

--- The policy with a fixed signal (or the run's -s confidence= when nil).
function M.variant(signal)
  local function label(cfg)
    return string.format("SLM-MUX (%s confidence)", signal or cfg.confidence or "consistency")
  end
  return {label = label, description = "SLM-MUX, confidence = "
    .. (signal or "the run's 'confidence' setting: consistency, verbalized or logprob"),
    solve = function(_, ctx) return M.solve_with(signal or ctx.opts.confidence or "consistency", ctx) end}
end

return M
