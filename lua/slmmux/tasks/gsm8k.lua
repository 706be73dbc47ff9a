-- GSM8K (Cobbe et al. 2021): records with `question` and `answer`, whose
-- last line is "#### N". Prompts: the SLM-MUX reference's (tasks/prompts.lua)
-- or slmmux's own; both ask for the final answer after "####". With compat =
-- "reference", the reference's extraction and scoring (tasks/compat.lua).
local compat = require "slmmux.tasks.compat"
local data = require "slmmux.data"
local prompts = require "slmmux.tasks.prompts"

local mux = require "slmmux"

local M = {}

-- The settings a run of this task starts from: the paper's k = 3 at T = 0.3,
-- tie-break accuracies from the first 500 problems of the training split.
M.SETTINGS = {
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo"},
  samples = 3, temperature = 0.3, max_tokens = 1024,
  validation = {data = "data/gsm8k_train.jsonl", limit = 500},
}

--- A GSM8K task. opts: prompts = "reference" (default) or "slmmux",
-- compat = "reference".
function M.new(opts)
  opts = opts or {}
  if opts.compat ~= nil and opts.compat ~= "reference" then
    error("tasks.gsm8k: compat must be 'reference' or nil, got " .. tostring(opts.compat), 2)
  end
  local template = prompts.template(opts.prompts or "reference", "gsm8k")
  local t = {name = "gsm8k", equiv = "exact", default_data = "data/gsm8k_500.json",
    settings = M.SETTINGS, template = template, compat = opts.compat,
    description = "GSM8K grade-school word problems, the number after '####'"}

  function t.load(path)
    local problems = data.load(path, {fields = {question = "string", answer = "string"}})
    for i, p in ipairs(problems) do
      local final = p.answer:match("####%s*([^\n]-)%s*$") or p.answer:match("####%s*([^\n]+)")
      local ref = final and mux.extract.number("#### " .. final)
      if not ref then data.bad_record(path, p, "field 'answer' has no final '#### N'") end
      p.id = p.id or ("gsm8k-" .. i)
      p.text, p.reference, p.final = p.question, ref, final
    end
    return problems
  end

  function t.prompt(p) return prompts.messages(template, {problem = p.text}) end

  function t.extract(text)
    return text ~= nil and mux.extract.number(text) or nil
  end

  function t.score(answer, p)
    if answer == nil then return false end
    if answer == p.reference then return true end
    local a, b = tonumber(answer), tonumber(p.reference)
    return a ~= nil and a == b
  end

  if opts.compat == "reference" then
    -- The reference compares with its data's answer, the bare final number;
    -- here that is the text after "####" (commas go in normalisation).
    function t.extract(text) return compat.gsm8k_extract(text) end
    function t.score(answer, p) return compat.gsm8k_score(answer, p.final) end
  end

  function t.reference(p) return p.reference end

  return t
end

for k, v in pairs(M.new()) do M[k] = v end

return M
