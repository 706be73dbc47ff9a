-- Simulated per-token logprobs, shaped like OpenAI's logprobs.content: the
-- text cut into tokens (a word with the spaces before it; a long word in
-- pieces of 4 bytes) whose concatenation is the text. The tokens that
-- state the answer sit at about log(p), p the probability that the
-- simulated model gives that answer (high when it is right and
-- consistent, low for a scattered guess); every other token at log of
-- 0.6 to 1. So the mean log-prob of an answer's tokens is a confidence
-- signal of the strength the profile implies, as it is for real models.
local M = {}

local function tokens(text)
  local list = {}
  for at, word in text:gmatch("()(%s*%S+)") do
    for i = 1, #word, 4 do list[#list + 1] = {s = word:sub(i, i + 3), at = at + i - 1} end
  end
  local tail = text:match("%s+$")
  if tail then list[#list + 1] = {s = tail, at = #text - #tail + 1} end
  return list
end

-- Byte span of the last place the answer is stated in text, or nil.
local function span(text, answer)
  if answer == nil or answer == "" then return nil end
  local from, last = 1, nil
  while true do
    local i, j = text:find(answer, from, true)
    if not i then break end
    last, from = {i, j}, i + 1
  end
  return last
end

--- The logprobs list of text. p: probability of its answer (nil: none
-- stated); top: how many top_logprobs (0: none); draw(tag, j) -> [0, 1).
function M.of(text, answer, p, top, draw)
  local out, s = {}, span(text, answer)
  local base = math.log(math.max(p or 0.5, 1e-4))
  for j, t in ipairs(tokens(text)) do
    local lp
    if s and t.at + #t.s - 1 >= s[1] and t.at <= s[2] then
      lp = math.min(0, base + 0.2 * (draw("lp", j) - 0.5))
    else
      lp = math.log(0.6 + 0.4 * draw("lp", j))
    end
    local entry = {token = t.s, logprob = lp}
    if top > 0 then
      local alts = {{token = t.s, logprob = lp}}
      local rest = math.log(math.max(1 - math.exp(lp), 1e-6))
      for k = 2, top do alts[k] = {token = "alt" .. (k - 1), logprob = rest - (k - 2)} end
      entry.top_logprobs = alts
    end
    out[j] = entry
  end
  return out
end

return M
