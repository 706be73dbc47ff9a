-- How a simulated model states a GSM8K answer ("#### N" on its own line),
-- and its j-th plausible wrong number.
local M = {}

local function number_text(v)
  local i = math.tointeger(v)
  if i then return tostring(i) end
  if v == math.floor(v) and math.abs(v) < 2^53 then return string.format("%d", v) end
  return string.format("%.6g", v)
end

-- Off by one, doubled, halved, a factor of ten...
local MISSES = {
  function(n) return n + 1 end, function(n) return n - 1 end,
  function(n) return n * 2 end, function(n) return n + 10 end,
  function(n) return n / 2 end, function(n) return n - 10 end,
  function(n) return n * 10 end, function(n) return n + 2 end,
}

function M.answer_text(answer) return "\n#### " .. answer end

function M.near_miss(p, j)
  local n = tonumber(p.reference) or 0
  local f = MISSES[(j - 1) % #MISSES + 1]
  return number_text(f(n) + ((j - 1) // #MISSES) * 3)
end

return M
