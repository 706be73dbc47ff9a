-- MATH (Hendrycks et al. 2021), e.g. the MATH-500 split: records with
-- `problem`, `answer` (the reference, without \boxed) and `unique_id`.
-- Prompt after the SLM-MUX reference code: reason step by step, answer in \boxed{}.
local data = require "slmmux.data"

local mux = require "slmmux"

local M = {}

local SYSTEM = "You are a helpful math assistant. Solve the problem step by step, "
  .. "then give your final answer in LaTeX as \\boxed{...}."

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

--- Returns a MATH task. opts.boxed = "last" (default) or "first": which
-- \boxed{} of a response is its answer.
function M.new(opts)
  opts = opts or {}
  local which = opts.boxed or "last"
  if which ~= "last" and which ~= "first" then
    error("tasks.math: boxed must be 'first' or 'last', got " .. tostring(which), 2)
  end
  local t = {name = "math", equiv = "math", default_data = "data/math_500.json",
    description = "MATH-500 competition problems, answers in \\boxed{}, MATH equivalence"}

  function t.load(path)
    local problems = data.load(path, {fields = {problem = "string", answer = "string"}})
    for i, p in ipairs(problems) do
      p.id = p.unique_id or ("math-" .. i)
      p.text, p.reference = p.problem, p.answer
    end
    return problems
  end

  function t.prompt(p)
    return {
      {role = "system", content = SYSTEM},
      {role = "user", content = "Problem:\n" .. p.text
        .. "\n\nPut the final answer in the form \\boxed{...}."},
    }
  end

  function t.extract(text)
    if text == nil then return nil end
    local boxed = mux.extract.boxed(text, {which = which})
    return boxed and mux.math.normalize(boxed)
  end

  function t.score(answer, p)
    return answer ~= nil and mux.math.equiv(p.reference, answer)
  end

  function t.reference(p) return p.reference end

  -- For the simulator: how a response states an answer, and the j-th
  -- plausible wrong answer (a changed digit, another option, or an offset).
  function t.answer_text(answer) return "\\boxed{" .. answer .. "}" end

  function t.near_miss(p, j)
    return change_digit(p.reference, j) or change_letter(p.reference, j)
      or (p.reference .. "+" .. j)
  end

  return t
end

-- The module itself is the default task, so `task = "math"` needs no call.
for k, v in pairs(M.new()) do M[k] = v end

return M
