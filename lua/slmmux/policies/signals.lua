-- Confidence signals read from a sample (a choice of ctx.chat's resp), for
-- policies/confidence.lua and any recipe of one's own.
local errors = require "slmmux.errors"

local M = {}

--- The confidence a text states as "Confidence: N%", in [0, 1]; 0 when none.
function M.stated(text)
  local n = tonumber((text or ""):match("[Cc]onfidence:%s*(%d+%.?%d*)%s*%%"))
  return n and math.min(n, 100) / 100 or 0
end

--- The mean log-prob of the tokens that state the choice's answer (its
-- last place in the text, else the text's last line, where answers are
-- stated). A choice without logprobs is a configuration error naming model.
function M.answer_logprob(ch, model)
  if type(ch.logprobs) ~= "table" or #ch.logprobs == 0 then
    errors.config(tostring(model) .. ": the server returned no logprobs (confidence=logprob needs them)")
  end
  local text, i, j, from = ch.text or "", nil, nil, 1
  while ch.answer do
    local a, b = text:find(ch.answer, from, true)
    if not a then break end
    i, j, from = a, b, a + 1
  end
  if not i then i, j = (text:find("[^\n]*$")), #text end
  local at, sum, n = 1, 0, 0
  for _, t in ipairs(ch.logprobs) do
    if at + #t.token - 1 >= i and at <= j then sum, n = sum + t.logprob, n + 1 end
    at = at + #t.token
  end
  return n > 0 and sum / n or ch.logprobs[#ch.logprobs].logprob
end

return M
