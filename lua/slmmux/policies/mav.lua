-- Multi-Agent Verification, BoN-MAV (Lifshitz, McIlraith and Du, 2025,
-- "Multi-Agent Verification: Scaling Test-Time Compute with Multiple
-- Verifiers", arXiv:2502.20379). The generator (the first model) samples n
-- candidates; every aspect verifier -- each model for each aspect -- says
-- True or False of each candidate; the candidate with the most approvals
-- wins (ties: the earlier candidate). Paper defaults: n = 16 candidates at
-- temperature 0.7, verifiers at temperature 0, and for MATH the aspects
-- units_steps, general_summarize, general_edge, general_mistakes and
-- general_domain (-s aspects=a,b,...). Settings: samples = n, aspects.
-- The verifier prompts are the paper's (its aspect-verifier prompts, worded
-- as in the authors' release); a verifier that reasons first is asked the
-- paper's follow-up for a bare True or False, and its approval is read as
-- the paper reads it (the last "FINAL VERIFICATION ANSWER:", true/false).
local vera = require "slmmux.policies.mav_prompts"

local mux = require "slmmux"

local M = {name = "mav",
  settings = "samples=16 (candidates) aspects=units_steps,general_summarize,general_edge,general_mistakes,"
    .. "general_domain",
  label = "Multi-Agent Verification (BoN-MAV)",
  description = "BoN-MAV (Lifshitz et al. 2025): n candidates, aspect verifiers approve "
    .. "or not, the most approved candidate wins"}

local DEFAULTS = {samples = 16, aspects = vera.MATH_ASPECTS}

-- One verifier's approval of one candidate (two calls unless the aspect is direct).
local function verify(ctx, v, c, question, solution)
  local function ask(messages, round)
    return ctx.chat{model = v.model, messages = messages, temperature = 0, agent = c, role = v.aspect,
      round = round}
  end
  local first = {{role = "user", content = vera.prompt(ctx.task.name, v.aspect, question, solution)}}
  local resp, err = ask(first, 1)
  if not resp then return nil, err end
  local text = resp.choices[1].text or ""
  if not vera.is_direct(v.aspect) then
    local follow = {first[1], {role = "assistant", content = text}, {role = "user", content = vera.CLARIFY}}
    resp, err = ask(follow, 2)
    if not resp then return nil, err end
    text = resp.choices[1].text or ""
  end
  return vera.approval(text)
end

function M.solve(_, ctx)
  local n, aspects = ctx.opts.samples or DEFAULTS.samples, ctx.opts.aspects or DEFAULTS.aspects
  local generator = ctx.models[1]
  local prompt = ctx.prompt()
  local gen, err = ctx.chat{model = generator, messages = prompt, n = n}
  if not gen then return nil, err end
  local question = prompt[#prompt].content
  local verifiers = {}
  for _, m in ipairs(ctx.models) do
    for _, a in ipairs(aspects) do verifiers[#verifiers + 1] = {model = m, aspect = a} end
  end
  local jobs = {}
  for c, ch in ipairs(gen.choices) do
    for _, v in ipairs(verifiers) do jobs[#jobs + 1] = {c = c, v = v, text = ch.text or ""} end
  end
  local approvals, failure = {}, nil
  mux.map(jobs, function(j)
    local ok, e = verify(ctx, j.v, j.c, question, j.text)
    if ok == nil then failure = failure or e end
    if ok then approvals[j.c] = (approvals[j.c] or 0) + 1 end
  end)
  if failure and not ctx.opts.partial then return nil, failure end
  local best, most = nil, -1
  for c, ch in ipairs(gen.choices) do
    local votes = approvals[c] or 0
    if ch.answer ~= nil and votes > most then best, most = c, votes end
  end
  if not best then return {model = generator, reason = "no answer extracted", confidence = 0} end
  return {answer = gen.choices[best].answer, model = generator, confidence = most / #verifiers,
    reason = string.format("candidate %d of %d: %d of %d verifiers approve", best, n, most, #verifiers)}
end

return M
