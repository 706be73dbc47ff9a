-- MATH (Hendrycks et al. 2021), e.g. the MATH-500 split: records with
-- `problem`, `answer` (the reference, without \boxed) and `unique_id`.
-- Prompts: the SLM-MUX reference's (tasks/prompts.lua), or slmmux's own.
-- Answers: the last \boxed{} and MATH equivalence, or with compat =
-- "reference" the reference's scoring (tasks/compat.lua).
local compat = require "slmmux.tasks.compat"
local data = require "slmmux.data"
local prompts = require "slmmux.tasks.prompts"

local mux = require "slmmux"

local M = {}

-- The settings a run of this task starts from (a recipe or -s overrides
-- any): the SLM-MUX paper's k = 3 at T = 0.3, and tie-break accuracies from
-- 500 problems of the MATH training split, disjoint from MATH-500.
M.SETTINGS = {
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "Qwen/Qwen2.5-7B-Instruct-Turbo"},
  samples = 3, temperature = 0.3, max_tokens = 2048,
  validation = {data = "data/math_train_500.jsonl"},
}

local function check_opts(opts)
  local which = opts.boxed or "last"
  if which ~= "last" and which ~= "first" then
    error("tasks.math: boxed must be 'first' or 'last', got " .. tostring(which), 3)
  end
  if opts.compat ~= nil and opts.compat ~= "reference" then
    error("tasks.math: compat must be 'reference' or nil, got " .. tostring(opts.compat), 3)
  end
  return which
end

--- Returns a MATH task. opts: boxed = "last" (default) or "first" (which
-- \boxed{} of a response is its answer), prompts = "reference" (default) or
-- "slmmux", compat = "reference" (the reference's extraction and scoring).
function M.new(opts)
  opts = opts or {}
  local which = check_opts(opts)
  local template = prompts.template(opts.prompts or "reference", "math")
  local t = {name = "math", equiv = "math", default_data = "data/math_500.json",
    settings = M.SETTINGS, template = template, compat = opts.compat,
    description = "MATH-500 competition problems, answers in \\boxed{}, MATH equivalence"}

  function t.load(path)
    local problems = data.load(path, {fields = {problem = "string", answer = "string"}})
    for i, p in ipairs(problems) do
      p.id = p.unique_id or ("math-" .. i)
      p.text, p.reference = p.problem, p.answer
    end
    return problems
  end

  function t.prompt(p) return prompts.messages(template, {problem = p.text}) end

  function t.extract(text)
    if text == nil then return nil end
    if which == "last" then return mux.extract.math(text) end   -- joined boxes, prose answers
    local boxed = mux.extract.boxed(text, {which = which})
    return boxed and mux.math.normalize(boxed)
  end

  function t.score(answer, p)
    return answer ~= nil and mux.math.equiv(p.reference, answer)
  end

  if opts.compat == "reference" then
    t.equiv = "exact"   -- the reference votes on normalised strings
    function t.extract(text) return compat.math_extract(text) end
    function t.score(answer, p) return compat.math_score(answer, p.reference) end
  end

  function t.reference(p) return p.reference end

  return t
end

-- The module itself is the default task, so `task = "math"` needs no call.
for k, v in pairs(M.new()) do M[k] = v end

return M
