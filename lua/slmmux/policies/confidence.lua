-- SLM-MUX with other confidence signals. Algorithm 1 of Wang et al.
-- (2025) keeps its steps -- every model samples k answers independently,
-- each model's answer is its most common one, the most confident model's
-- answer wins, ties to the higher validation accuracy -- and only the
-- confidence of a model's answer changes (-s confidence=...):
--   consistency  the share of its k samples that give it (Algorithm 1 itself)
--   verbalized   the confidence the model states ("Confidence: N%", asked for
--                in the prompt), averaged over the samples that give it
--   logprob      exp of the mean token log-prob of the answer where those
--                samples state it (the server must return logprobs)
-- Over frontier models (-s models=...) these are the paper's frontier-LLM
-- variants; registered as mux_confidence, mux_verbalized and mux_logprob.
local errors = require "slmmux.errors"
local signals = require "slmmux.policies.signals"
local vote = require "slmmux.vote"

local M = {}

local ASK = "\n\nAfter your final answer, state how confident you are that it is correct, "
  .. "on a line of its own: 'Confidence: N%' (N from 0 to 100)."

-- Each signal: the confidence of a model's answer from the samples giving it.
local SIGNALS = {
  consistency = function(group, k) return #group / k end,
  verbalized = function(group)
    local sum = 0
    for _, ch in ipairs(group) do sum = sum + signals.stated(ch.text) end
    return sum / #group
  end,
  logprob = function(group, _, model)
    local sum = 0
    for _, ch in ipairs(group) do sum = sum + signals.answer_logprob(ch, model) end
    return math.exp(sum / #group)
  end,
}

-- A model's top answer and its confidence as vote.select reads them: a
-- count of millionths out of k (one more: an answer stated with no
-- confidence is still an answer).
local function top(resp, model, signal, ctx)
  local answers = ctx.answers(resp)
  local t = vote.top({model = model, answers = answers}, ctx.task.equiv)
  if t.answer == nil then return {model = model, count = 0, k = 1} end
  local group = {}
  for i, a in ipairs(answers) do
    if a and select(2, vote.majority({t.answer, a}, {equiv = ctx.task.equiv})) == 2 then
      group[#group + 1] = resp.choices[i]
    end
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
  d.reason = signal .. ": " .. d.reason   -- not a tail call: vote's error levels count frames
  return d
end

--- The policy with a fixed signal (or the run's -s confidence= when nil).
function M.variant(signal)
  local function chosen(o) return signal or o.confidence or "consistency" end
  return {settings = not signal and "confidence=consistency|verbalized|logprob" or nil,
    label = function(cfg) return "SLM-MUX (" .. chosen(cfg) .. " confidence)" end,
    description = "SLM-MUX, confidence = " .. (signal or "-s confidence=consistency|verbalized|logprob"),
    solve = function(_, ctx) return M.solve_with(chosen(ctx.opts), ctx) end}
end

return M
