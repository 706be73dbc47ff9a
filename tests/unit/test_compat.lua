-- compat = "reference": the SLM-MUX reference's extraction and scoring,
-- rule by rule (expected values are the reference code's own outputs on
-- these inputs), and the tasks that use them: the first \boxed wins,
-- normalised strings are compared as strings, so forms slmmux counts as
-- equivalent are wrong here.
local compat = require "slmmux.tasks.compat"
local tasks = require "slmmux.tasks"
local home = require("slmmux").home or "."

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local ABCD = {"A x", "B y", "C z", "D w"}
-- {function, expected (nil: no answer), input [, choices]}
local CASES = {
  {"math_extract", "1", "First \\boxed{1}, then \\boxed{2}."},
  {"math_extract", "\\frac{1}{2}", "so \\boxed{\\dfrac{1}{2}}"},
  {"math_extract", "\\frac{1}{2}", "\\boxed{\\frac12}"},
  {"math_extract", "\\sqrt{2}", "\\boxed{x = \\sqrt2}"},
  {"math_extract", "10", "\\boxed{10\\text{ cm}}"},
  {"math_extract", "(C)", "\\boxed{\\text{(C)}}"},
  {"math_extract", "\\frac{1}{2}", "\\boxed{1/2}"},
  {"math_extract", "\\frac{1}{2}", "\\boxed{.5}"},
  {"math_extract", "90", "\\boxed{90^\\circ}"},
  {"math_extract", "(3,-1)", "\\boxed{\\left( 3, -1 \\right)}"},
  {"math_extract", "50", "\\boxed{50\\%}"},
  {"math_extract", nil, "\\boxed {3}"},
  {"math_extract", nil, "\\boxed{3"},
  {"math_extract", nil, "\\fbox{3}"},
  {"math_normalize", "\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt{3}}{2}"},
  {"math_normalize", "\\frac{3}{4}", "\\tfrac34"},
  {"math_normalize", "\\frac{7}{10}", "007/010"},
  {"math_normalize", "abc=5", "abc=5"},
  {"gsm8k_extract", "1", "so 3 + 4 = 7\n#### 1,000"},
  {"gsm8k_extract", "19.50", "#### 18\nand later #### 19.50"},
  {"gsm8k_extract", "5", "no marker, 12 apples and 5 pears"},
  {"gsm8k_extract", "7", "#### 007"},
  {"gsm8k_extract", ".5", "#### 0.5"},
  {"gsm8k_extract", "5", "#####5"},
  {"gsm8k_extract", nil, "nothing"},
  {"gsm8k_normalize", "1450000", " 1,450,000 "},
  {"gsm8k_normalize", "0", "000"},
  {"gpqa_extract", "C", "The answer is B. ##Answer: C##", ABCD},
  {"gpqa_extract", "D", "Final answer: d", ABCD},
  {"gpqa_extract", "B", "answer: E\n## B ##", ABCD},
  {"gpqa_extract", "C", "I think\nc\nis right", ABCD},
  {"gpqa_extract", "B", "(A) or (B) or (E)", ABCD},
  {"gpqa_extract", "C", "between A and C", ABCD},
  {"gpqa_extract", "A", "Final Answer: (E)", {"A 1", "B 2", "C 3", "D 4", "E 5"}},
  {"gpqa_extract", nil, "no letter here", ABCD},
}

local function quoted(s) return (string.format("%q", s):gsub("\\\n", "\\n")) end

for _, c in ipairs(CASES) do
  local got = compat[c[1]](c[3], c[4])
  check(string.format("%s(%s) = %s", c[1], quoted(c[3]), tostring(c[2])), got == c[2],
    string.format("got %s", tostring(got)))
end

-- The tasks: compat = "reference" swaps extraction, scoring and voting.
local m = tasks.resolve("math", {compat = "reference"})
local ref = tasks.resolve("math", {})
local p = {id = "p", text = "?", reference = "\\frac{1}{2}"}
check("math compat: the first box is the answer", m.extract("\\boxed{1} no, \\boxed{2}") == "1")
check("math compat: \\dfrac12 scores (both normalise to \\frac{1}{2})",
  m.score(m.extract("\\boxed{\\dfrac12}"), p))
check("math compat: 0.50 is not \\frac{1}{2} (string equality)",
  not m.score(m.extract("\\boxed{0.50}"), p) and ref.score(ref.extract("\\boxed{0.50}"), p))
check("math compat: votes on exact strings", m.equiv == "exact" and ref.equiv == "math")
local g = tasks.resolve("gsm8k", {compat = "reference"})
local gp = g.load(home .. "/data/gsm8k_test.jsonl")
local comma
for _, q in ipairs(gp) do if q.final:find(",", 1, true) then comma = q break end end
check("gsm8k compat: a reference with a thousands comma scores written without it",
  comma and g.score(comma.reference, comma))
check("gsm8k compat: the same number with its comma reads as its first digits",
  comma and not g.score(g.extract("#### " .. comma.final), comma)
    and tasks.resolve("gsm8k", {}).score(tasks.resolve("gsm8k", {}).extract("#### " .. comma.final), comma))
local q = tasks.resolve("gpqa", {compat = "reference"})
local qp = q.load(home .. "/data/gpqa_diamond.json.gz")[1]
check("gpqa compat: the letter of ##Answer: X## scores", q.score(q.extract("##Answer: D##", qp), qp))
local ok, err = pcall(tasks.resolve, "math", {compat = "strict"})
check("an unknown compat is refused", not ok and tostring(err):find("compat", 1, true), tostring(err))
ok, err = pcall(tasks.resolve, "humaneval", {compat = "reference"})
check("humaneval refuses compat (both run the tests)", not ok and tostring(err):find("humaneval", 1, true),
  tostring(err))

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
