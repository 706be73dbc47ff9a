-- mux.extract: the binding's shapes (string or nil, never ""), options and
-- misuse errors. The rules themselves are tested in test_extract.c.
local mux = require "slmmux"
local ex = mux.extract

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern, 1, true), "error was: " .. tostring(err))
end

-- boxed: last by default, first on request, nil when absent or cut off
local reply = "First $\\boxed{2}$, then rechecking: $\\boxed{\\frac{1}{2}}$."
assert(ex.boxed(reply) == "\\frac{1}{2}")
assert(ex.boxed(reply, {which = "last"}) == "\\frac{1}{2}")
assert(ex.boxed(reply, {which = "first"}) == "2")
assert(ex.boxed(reply, {}) == "\\frac{1}{2}")
assert(ex.boxed("no box") == nil)
assert(ex.boxed("cut off \\boxed{\\sqrt{2") == nil)
assert(ex.boxed("\\boxed{}") == nil)                -- never ""
assert(ex.boxed("a\0b \\boxed{x\0y}") == "x\0y")    -- bytes, NULs included
raises("which", ex.boxed, reply, {which = "middle"})
raises("mux.extract.boxed: unknown field opts.wich", ex.boxed, reply, {wich = "first"})
raises("mux.extract.boxed: text must be a string (got nil)", ex.boxed, nil)
raises("mux.extract.boxed: opts must be a table (got string)", ex.boxed, reply, "last")

-- math: the last box, normalised by math_normalize (so never "")
local m = ex.math("so the answer is $\\boxed{ 42 }$")
assert(type(m) == "string" and #m > 0 and m:find("42"), tostring(m))
assert(ex.math("no box at all") == nil)
-- one box per solution, joined; prose only when there is no box
assert(ex.math("$x = \\boxed{2}$ or $x = \\boxed{-3}$") == "2,-3")
assert(ex.math("First $\\boxed{4}$. Then doubling gives $\\boxed{8}$.") == "8")
assert(ex.math("Final Answer: The final answer is $\\dfrac12$. I hope it is correct.") == "\\frac{1}{2}")
assert(ex.math("The answer is not obvious.") == nil)
assert(ex.math("$\\boxed{44}$. We may check our answer: $17 \\cdot 44 = 748$.") == "44")
raises("mux.extract.math: text must be a string (got table)", ex.math, {})

-- number
assert(ex.number("She makes 9 * 2 = $18 every day.\n#### 18") == "18")
assert(ex.number("#### " .. "1,450,000") == "1450000")
assert(ex.number("The answer is $1,000.00.") == "1000")
assert(ex.number("Total: -5 degrees") == "-5")
assert(ex.number("no digits") == nil)
assert(ex.number("") == nil)
raises("mux.extract.number: text must be a string", ex.number, nil)

-- choice
assert(ex.choice("Reasoning...\n##Answer: C##") == "C")
assert(ex.choice("**Answer:** (b)") == "B")
assert(ex.choice("The answer is (F).", "ABCDEFGHIJ") == "F")
assert(ex.choice("The answer is (F).") == nil)       -- ABCD by default
assert(ex.choice("A reaction occurs.") == nil)
raises("letters", ex.choice, "x", "abcd")
raises("letters", ex.choice, "x", "")
raises("mux.extract.choice: text must be a string (got boolean)", ex.choice, true)

-- code
local code = ex.code("Here:\n```python\ndef add(a, b):\n    return a + b\n```\nDone.", "add")
assert(code == "def add(a, b):\n    return a + b", code)
assert(ex.code("```python\nprint(1)\n```") == "print(1)")   -- entry_point optional
assert(ex.code("", "add") == nil)
raises("mux.extract.code: entry_point must be a string (got table)", ex.code, "x", {})

print("test_extract.lua: ok")
