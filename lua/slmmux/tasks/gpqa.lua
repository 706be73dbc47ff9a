-- GPQA (Rein et al. 2023), e.g. the Diamond split with shuffled options:
-- records with `question`, `choices` ({"A ...", "B ...", ...}) and `answer`
-- (a letter). Prompt after the SLM-MUX reference code: list the options,
-- reason step by step, answer as "##Answer: X##".
local data = require "slmmux.data"

local mux = require "slmmux"

local M = {}

local SYSTEM = "You are a helpful assistant. Reason step by step through the question "
  .. "and choose the best option. Finally, give your single-letter choice as '##Answer: X##'."

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

function M.new()
  local t = {name = "gpqa", equiv = "exact", default_data = "data/gpqa_diamond.json.gz",
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

  function t.prompt(p)
    local lines = {"Question:\n" .. p.text:gsub("%s+$", ""), "", "Choices:"}
    for i, text in ipairs(p.options) do
      lines[#lines + 1] = "(" .. p.letters:sub(i, i) .. ") " .. text
    end
    lines[#lines + 1] = "\nGive your final single-letter answer in the form ##Answer: X##."
    return {
      {role = "system", content = SYSTEM},
      {role = "user", content = table.concat(lines, "\n")},
    }
  end

  function t.extract(text, p)
    if text == nil then return nil end
    return mux.extract.choice(text, p and p.letters or "ABCD")
  end

  function t.score(answer, p) return answer ~= nil and answer == p.reference end

  function t.reference(p) return p.reference end

  return t
end

for k, v in pairs(M.new()) do M[k] = v end

return M
