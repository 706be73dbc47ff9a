-- Tasks and dataset loading: the prompts ask for the answer formats the
-- extractors read, the shipped datasets load, and a malformed dataset stops
-- with the file and the record at fault.
local data = require "slmmux.data"
local math_task = require "slmmux.tasks.math"
local gsm8k = require "slmmux.tasks.gsm8k"
local gpqa = require "slmmux.tasks.gpqa"

local home = require("slmmux").home or "."
local function path(p) return home .. "/" .. p end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. data.quote(dir)))

local function write(name, text)
  local p = dir .. "/" .. name
  local f = assert(io.open(p, "wb"))
  f:write(text)
  f:close()
  return p
end

local function gzip(p)
  assert(os.execute("gzip -f -- " .. data.quote(p)))
  return p .. ".gz"
end

-- Raises unless fn fails with a message containing every one of `parts`.
local function fails(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  for _, part in ipairs({...}) do
    assert(tostring(err):find(part, 1, true), "error '" .. tostring(err) .. "' lacks '" .. part .. "'")
  end
  return err
end

local function user_text(messages)
  local parts = {}
  for _, m in ipairs(messages) do
    assert(m.role == "system" or m.role == "user", "role " .. tostring(m.role))
    assert(type(m.content) == "string")
    parts[#parts + 1] = m.content
  end
  return table.concat(parts, "\n")
end

-- The shipped datasets load, with ids and references.
local m = math_task.load(path("data/math_500.json"))
assert(#m == 500 and m[1].id == "test/intermediate_algebra/1992.json", "math ids")
assert(m[1].reference == "(0,9) \\cup (9,36)" and m[1].text:find("81"), "math reference")
local g = gsm8k.load(path("data/gsm8k_test.jsonl"))
assert(#g == 1319 and g[1].reference == "18", "gsm8k reference from '#### 18'")
assert(#gsm8k.load(path("data/gsm8k_500.json")) == 500)
local q = gpqa.load(path("data/gpqa_diamond.json.gz"))
assert(#q == 198 and q[1].reference == "D" and q[1].letters == "ABCD", "gpqa")
assert(q[1].options[1] == "10^-8 eV", "option text without its letter: " .. q[1].options[1])
local ids = {}
for _, set in ipairs({m, g, q}) do
  for _, p in ipairs(set) do
    assert(not ids[p.id], "duplicate id " .. tostring(p.id))
    ids[p.id] = true
  end
end

-- Prompts ask for the format each extractor reads.
local mp = user_text(math_task.prompt(m[1]))
assert(mp:find("\\boxed{", 1, true) and mp:find("step by step", 1, true), mp)
assert(mp:find(m[1].text, 1, true), "the problem is in the prompt")
local gp = user_text(gsm8k.prompt(g[1]))
assert(gp:find("####", 1, true) and gp:find(g[1].text, 1, true), gp)
local qp = user_text(gpqa.prompt(q[1]))
assert(qp:find("##Answer: X##", 1, true), qp)
for _, choice in ipairs(q[1].choices) do
  assert(qp:find(choice, 1, true), "the reference lists each choice string as stored")
end
local sp = user_text(gpqa.new({prompts = "slmmux"}).prompt(q[1]))
for i, opt in ipairs(q[1].options) do
  assert(sp:find("(" .. string.char(64 + i) .. ") " .. opt, 1, true), "option " .. i .. " listed")
end

-- Extraction and scoring through the task.
assert(math_task.extract("so \\boxed{\\frac{1}{2}}") ~= nil)
assert(math_task.score(math_task.extract("thus \\boxed{(0,9) \\cup (9,36)}"), m[1]))
assert(not math_task.score(math_task.extract("thus \\boxed{(0,9)}"), m[1]))
assert(math_task.extract("no box here") == nil and math_task.extract(nil) == nil)
assert(math_task.new({boxed = "first"}).extract("\\boxed{1} then \\boxed{2}") == "1")
assert(math_task.new().extract("\\boxed{1} then \\boxed{2}") == "2")
fails(function() math_task.new({boxed = "middle"}) end, "boxed")
assert(gsm8k.score(gsm8k.extract("She makes 9 * 2 = 18 dollars.\n#### 18"), g[1]))
assert(not gsm8k.score(gsm8k.extract("#### 19"), g[1]) and not gsm8k.score(nil, g[1]))
assert(gpqa.extract("I pick this. ##Answer: D##", q[1]) == "D" and gpqa.score("D", q[1]))
assert(gpqa.extract(nil, q[1]) == nil)

-- Malformed datasets name the file and the record.
local bad_line = write("bad.jsonl", '{"question": "a", "answer": "#### 1"}\n'
  .. '{"question": "b", "answer": "#### 2"}\n{"question": "c", "answer": \n')
fails(function() gsm8k.load(bad_line) end, bad_line, "line 3", "invalid JSON")
local missing = write("missing.jsonl", '{"question": "a", "answer": "#### 1"}\n'
  .. '{"question": "b"}\n')
fails(function() gsm8k.load(missing) end, missing, "record 2", "missing field 'answer'")
local records = {}
for i = 1, 20 do
  records[i] = i == 17 and '{"problem": "p"}' or '{"problem": "p", "answer": "1"}'
end
local arr = write("missing.json", "[" .. table.concat(records, ",\n") .. "]")
fails(function() math_task.load(arr) end, arr, "record 17: missing field 'answer'")
local null = write("null.json", '[{"problem": "p", "answer": null}]')
fails(function() math_task.load(null) end, "record 1: missing field 'answer'")
local typed = write("typed.json", '[{"problem": "p", "answer": "1"}, {"problem": 7, "answer": "1"}]')
fails(function() math_task.load(typed) end, "record 2: field 'problem' is a number")
local broken = write("broken.json", '[{"problem": "p", "answer": "1"},\n {"problem": ]')
fails(function() math_task.load(broken) end, broken, "invalid JSON", "line 2")
local notarray = write("object.json", '{"problem": "p", "answer": "1"}')
fails(function() math_task.load(notarray) end, "expected a JSON array")
local nohash = write("nohash.jsonl", '{"question": "a", "answer": "#### 1"}\n'
  .. '{"question": "b", "answer": "the answer is 2"}\n')
fails(function() gsm8k.load(nohash) end, nohash, "record 2", "####")
local letter = write("letter.json", '[{"question": "q", "choices": ["A x", "B y"], "answer": "A"},'
  .. '{"question": "q", "choices": ["A x", "B y"], "answer": "E"}]')
fails(function() gpqa.load(letter) end, letter, "record 2", "'E'")
fails(function() math_task.load(dir .. "/absent.json") end, "absent.json")
local empty = write("empty.jsonl", "\n\n")
fails(function() gsm8k.load(empty) end, "no records")

-- gzip, with a path that needs quoting for the shell.
local odd = write("it's $(odd).jsonl", '{"question": "a", "answer": "#### 1,000"}\n\n'
  .. '{"question": "b", "answer": "#### 2"}\n')
local gz = gzip(odd)
local loaded = gsm8k.load(gz)
assert(#loaded == 2 and loaded[1].reference == "1000" and loaded[2].id == "gsm8k-2", "gz jsonl")
local badgz = gzip(write("bad2.jsonl", '{"question": "a", "answer": "#### 1"}\nnot json\n'))
fails(function() gsm8k.load(badgz) end, badgz, "line 2")
local notgz = write("plain.json.gz", "[]")
fails(function() math_task.load(notgz) end, "gzip")

-- Unprefixed options get letters by position.
local plain = write("plain.json", '[{"question": "q", "choices": ["red", "green", "blue"], "answer": "B"}]')
local pq = gpqa.load(plain)[1]
assert(pq.letters == "ABC" and pq.options[2] == "green", "options without letters")

-- Deterministic shuffle: a permutation, the same for a seed, different across seeds.
local function seq(n) local t = {} for i = 1, n do t[i] = i end return t end
local a, b, c = data.shuffle(seq(50), 7), data.shuffle(seq(50), 7), data.shuffle(seq(50), 8)
local seen, same, moved = {}, true, false
for i = 1, 50 do
  seen[a[i]] = true
  same = same and a[i] == b[i]
  moved = moved or a[i] ~= c[i]
end
assert(same and moved, "shuffle determinism")
for i = 1, 50 do assert(seen[i], "shuffle lost an element") end

os.execute("rm -rf -- " .. data.quote(dir))
print("test_tasks: ok")
