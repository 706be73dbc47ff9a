-- MATH (Hendrycks et al. 2021), e.g. the MATH-500 split: records with
-- `problem`, `answer` (the reference, without \boxed) and `unique_id`.
-- Prompt after the SLM-MUX reference code: reason step by step, answer in \boxed{}.
local data = require "slmmux.data"

local mux = require "slmmux"

local M = {}

local SYSTEM = "You are a helpful math assistant. Solve the problem step by step, "
  .. "then give your final answer in LaTeX as \\boxed{...}."

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
    if which == "last" then return mux.extract.math(text) end   -- joined boxes, prose answers
    local boxed = mux.extract.boxed(text, {which = which})
    return boxed and mux.math.normalize(boxed)
  end

  function t.score(answer, p)
    return answer ~= nil and mux.math.equiv(p.reference, answer)
  end

  function t.reference(p) return p.reference end

  return t
end

-- The module itself is the default task, so `task = "math"` needs no call.
for k, v in pairs(M.new()) do M[k] = v end

return M
