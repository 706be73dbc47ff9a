-- GPQA (Rein et al. 2023), e.g. the Diamond split with shuffled options:
-- records with `question`, `choices` ({"A ...", "B ...", ...}) and `answer`
-- (a letter). Prompts: the SLM-MUX reference's (tasks/prompts.lua: the
-- choice strings as stored, one a line) or slmmux's own ("(A) text" lines);
-- both ask for "##Answer: X##". With compat = "reference", the reference's
-- extraction and scoring (tasks/compat.lua).
local compat = require "slmmux.tasks.compat"
local data = require "slmmux.data"
local prompts = require "slmmux.tasks.prompts"

local mux = require "slmmux"

local M = {}

-- The settings a run of this task starts from: the paper's k = 3 at T = 0.3.
-- GPQA-Diamond has no split to spare: tie-break accuracies are cross-fitted
-- on the evaluated questions (each question's from the other folds).
M.SETTINGS = {
  models = {"mistralai/Mistral-Small-24B-Instruct-2501", "google/gemma-2-27b-it"},
  samples = 3, temperature = 0.3, max_tokens = 2048,
  validation = "crossfit",
}

-- {choices} of each style: the reference inserts the stored strings as they
-- are (their letters included, a trailing newline kept); slmmux lists the
-- option texts after "(A) ".
local FIELDS = {
  reference = function(p) return {problem = p.text, choices = table.concat(p.choices, "\n")} end,
  slmmux = function(p)
    local lines = {}
    for i, text in ipairs(p.options) do lines[i] = "(" .. p.letters:sub(i, i) .. ") " .. text end
    return {problem = (p.text:gsub("%s+$", "")), choices = table.concat(lines, "\n")}
  end,
}

-- Options carry their letter ("A 10^-8 eV"); options without letters get
-- A, B, C... by position.
local function parse_choices(path, p)
  local letters, texts, prefixed = {}, {}, true
  for i, c in ipairs(p.choices) do
    if type(c) ~= "string" then data.bad_record(path, p, "choice %d is not a string", i) end
    local want = string.char(64 + i)
    local letter, text = c:match("^%s*%(?(%u)[%)%.:]?%s+(.-)%s*$")
    if letter ~= want then prefixed = false end
    letters[i], texts[i] = want, text
  end
  if #letters < 2 then data.bad_record(path, p, "field 'choices' needs at least 2 options") end
  if not prefixed then
    for i, c in ipairs(p.choices) do texts[i] = c:match("^%s*(.-)%s*$") end
  end
  return table.concat(letters), texts
end

--- A GPQA task. opts: prompts = "reference" (default) or "slmmux",
-- compat = "reference".
function M.new(opts)
  opts = opts or {}
  if opts.compat ~= nil and opts.compat ~= "reference" then
    error("tasks.gpqa: compat must be 'reference' or nil, got " .. tostring(opts.compat), 2)
  end
  local style = opts.prompts or "reference"
  local template = prompts.template(style, "gpqa")
  local fields = FIELDS[style]
  local t = {name = "gpqa", equiv = "exact", default_data = "data/gpqa_diamond.json.gz",
    settings = M.SETTINGS, template = template, compat = opts.compat,
    description = "GPQA Diamond graduate science questions, one option letter"}

  function t.load(path)
    local problems = data.load(path,
      {fields = {question = "string", choices = "table", answer = "string"}})
    for i, p in ipairs(problems) do
      p.letters, p.options = parse_choices(path, p)
      p.reference = p.answer:match("^%s*%(?(%u)%)?%s*$")
      if not p.reference or not p.letters:find(p.reference, 1, true) then
        data.bad_record(path, p, "answer '%s' is not one of the options %s", p.answer, p.letters)
      end
      p.id = p.id or ("gpqa-" .. i)
      p.text = p.question
    end
    return problems
  end

  function t.prompt(p) return prompts.messages(template, fields(p)) end

  function t.extract(text, p)
    if text == nil then return nil end
    return mux.extract.choice(text, p and p.letters or "ABCD")
  end

  function t.score(answer, p) return answer ~= nil and answer == p.reference end

  if opts.compat == "reference" then
    function t.extract(text, p) return compat.gpqa_extract(text, p and p.choices or {"A", "B", "C", "D"}) end
    function t.score(answer, p) return compat.gpqa_score(answer, p.answer) end
  end

  function t.reference(p) return p.reference end

  return t
end

for k, v in pairs(M.new()) do M[k] = v end

return M
