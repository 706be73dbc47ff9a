-- GSM8K (Cobbe et al. 2021): records with `question` and `answer`, whose
-- last line is "#### N". Prompt after the SLM-MUX reference code: reason step
-- by step, then the final answer on its own line after "####".
local data = require "slmmux.data"

local mux = require "slmmux"

local M = {}

local SYSTEM = "You are a helpful math tutor. Reason step by step to solve the problem. "
  .. "After your reasoning, write the final answer on a new line prefixed with '####'. "
  .. "Example: #### 42"

function M.new()
  local t = {name = "gsm8k", equiv = "exact", default_data = "data/gsm8k_500.json",
    description = "GSM8K grade-school word problems, the number after '####'"}

  function t.load(path)
    local problems = data.load(path, {fields = {question = "string", answer = "string"}})
    for i, p in ipairs(problems) do
      local final = p.answer:match("####%s*([^\n]-)%s*$") or p.answer:match("####%s*([^\n]+)")
      local ref = final and mux.extract.number("#### " .. final)
      if not ref then data.bad_record(path, p, "field 'answer' has no final '#### N'") end
      p.id = p.id or ("gsm8k-" .. i)
      p.text, p.reference = p.question, ref
    end
    return problems
  end

  function t.prompt(p)
    return {
      {role = "system", content = SYSTEM},
      {role = "user", content = "Problem:\n" .. p.text
        .. "\n\nProvide your reasoning, then the final answer after '####'."},
    }
  end

  function t.extract(text)
    return text ~= nil and mux.extract.number(text) or nil
  end

  function t.score(answer, p)
    if answer == nil then return false end
    if answer == p.reference then return true end
    local a, b = tonumber(answer), tonumber(p.reference)
    return a ~= nil and a == b
  end

  function t.reference(p) return p.reference end

  return t
end

for k, v in pairs(M.new()) do M[k] = v end

return M
