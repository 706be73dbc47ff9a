-- How a simulated model states a GPQA answer ("##Answer: X##"), and its
-- j-th wrong one: another of the question's option letters.
local M = {}

function M.answer_text(answer) return "##Answer: " .. answer .. "##" end

function M.near_miss(p, j)
  local others = p.letters:gsub(p.reference, "")
  local at = (j - 1) % #others + 1
  return others:sub(at, at)
end

return M
