-- How a simulated model states a MATH answer, and its j-th plausible wrong
-- answer: a changed digit, another option letter, or an offset.
local M = {}

-- Last digits changed by these steps (mod 10) always give a different number.
local STEPS = {1, 9, 2, 8, 3, 7, 4, 6, 5}

local function change_digit(ref, j)
  local runs = {}
  for stop in ref:gmatch("%d+()") do runs[#runs + 1] = stop - 1 end
  if #runs == 0 then return nil end
  local at = runs[(j - 1) % #runs + 1]
  local step = STEPS[((j - 1) // #runs) % #STEPS + 1]
  local d = (tonumber(ref:sub(at, at)) + step) % 10
  return ref:sub(1, at - 1) .. d .. ref:sub(at + 1)
end

local function change_letter(ref, j)
  local before, letter, after = ref:match("^(.-%()(%u)(%).*)$")
  if not letter then return nil end
  local l = (letter:byte() - 65 + j) % 5 + 65
  if l == letter:byte() then l = (l - 65 + 1) % 5 + 65 end
  return before .. string.char(l) .. after
end

M.change_digit = change_digit

function M.answer_text(answer) return "\\boxed{" .. answer .. "}" end

function M.near_miss(p, j)
  return change_digit(p.reference, j) or change_letter(p.reference, j)
    or (p.reference .. "+" .. j)
end

return M
