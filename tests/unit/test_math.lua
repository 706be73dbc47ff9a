-- mux.math: the binding's shapes, options and misuse errors. The rules
-- themselves are tested in test_mathequiv.c and test_math500.c.
local mux = require "slmmux"
local m = mux.math

local function raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern, 1, true), "error was: " .. tostring(err))
end

-- normalize: a string, lengths respected (NUL bytes survive)
assert(m.normalize("\\dfrac{1}{2}") == "\\frac{1}{2}")
assert(m.normalize("$10\\%$") == "10")
assert(m.normalize("\\text{Evelyn}") == "Evelyn")
assert(m.normalize("") == "")
assert(m.normalize("1\0002") == "1\0002")
assert(m.normalize(42) == "42")
raises("mux.math.normalize: s must be a string (got nil)", m.normalize, nil)
raises("mux.math.normalize: s must be a string (got table)", m.normalize, {})

-- equiv: booleans, both ways
assert(m.equiv("\\frac{639}{40}", "15\\frac{39}{40}") == true)
assert(m.equiv("15\\frac{39}{40}", "\\frac{639}{40}") == true)
assert(m.equiv("x^2+2x+1", "(x+1)^2") == true)
assert(m.equiv("\\frac{1}{2004!}", "\\frac{1}{2006!}") == false)
assert(m.equiv("50", "0.5") == false)
assert(m.equiv("[0,9)", "(0,9)") == false)
assert(m.equiv("10", 10) == true)
assert(m.equiv("1\0002", "1\0002") == true)
assert(m.equiv("1\0002", "1\0003") == false)

-- options: defaults, each option changes its rule
assert(m.equiv("10, 4, -2", "4, 10, -2") == true)
assert(m.equiv("10, 4, -2", "4, 10, -2", {ordered_lists = true}) == false)
assert(m.equiv("10, 4, -2", "4, 10, -2", {ordered_lists = false}) == true)
assert(m.equiv("\\frac{1}{2}", "\\frac{2}{4}") == true)
assert(m.equiv("\\frac{1}{2}", "\\frac{2}{4}", {require_reduced = true}) == false)
assert(m.equiv("3\\sqrt{13}", "\\sqrt{117}", {require_reduced = true}) == false)
assert(m.equiv("\\sqrt{2}", "1.4142") == false)
assert(m.equiv("\\sqrt{2}", "1.4142", {rel_tol = 1e-3}) == true)
assert(m.equiv("(x-1)(x-2)", "x^2-3x+2", {points = 1, seed = 7}) == true)
assert(m.equiv("(x-1)(x-2)", "x^2-3x+2", {points = 32, seed = 4294967295}) == true)
assert(m.equiv("x", "x+1", {}) == false)
assert(m.equiv("x", "x", nil) == true)

-- misuse: types and names
raises("mux.math.equiv: ref must be a string", m.equiv, nil, "1")
raises("mux.math.equiv: cand must be a string", m.equiv, "1", nil)
raises("mux.math.equiv: opts must be a table (got string)", m.equiv, "1", "1", "ordered")
raises("unknown field opts.ordered", m.equiv, "1", "1", {ordered = true})
raises("opts.ordered_lists must be a boolean (got number)", m.equiv, "1", "1", {ordered_lists = 1})
raises("opts.require_reduced must be a boolean (got string)", m.equiv, "1", "1", {require_reduced = "yes"})
raises("opts.rel_tol", m.equiv, "1", "1", {rel_tol = -1})
raises("opts.rel_tol", m.equiv, "1", "1", {rel_tol = "1e-9"})
raises("opts.points", m.equiv, "1", "1", {points = 0})
raises("opts.points", m.equiv, "1", "1", {points = 33})
raises("opts.points", m.equiv, "1", "1", {points = 2.5})
raises("opts.seed", m.equiv, "1", "1", {seed = -1})
raises("unknown field opts[1]", m.equiv, "1", "1", {true})

print("test_math.lua: ok")
