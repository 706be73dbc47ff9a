-- The validation sources are what data/README.md says: math_train_500.jsonl
-- holds 500 distinct MATH training problems, none with the text of a
-- MATH-500 problem, with the recorded SHA-256; the GSM8K validation slice
-- (the first 500 training problems) shares no question with the test files.
local mux = require "slmmux"
local tasks = require "slmmux.tasks"
local home = mux.home or "."

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local function norm(s) return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")) end

local function texts(list)
  local set, n = {}, 0
  for _, p in ipairs(list) do
    local t = norm(p.text)
    if not set[t] then n = n + 1 end
    set[t] = true
  end
  return set, n
end

local function shared(a, b)
  local set, n = texts(b), 0
  for _, p in ipairs(a) do if set[norm(p.text)] then n = n + 1 end end
  return n
end

local math_task = tasks.resolve("math", {})
local train = math_task.load(home .. "/data/math_train_500.jsonl")
local test = math_task.load(home .. "/data/math_500.json")
local _, distinct = texts(train)
check("math_train_500.jsonl: 500 records", #train == 500, tostring(#train))
check("math_train_500.jsonl: 500 distinct problems", distinct == 500, tostring(distinct))
check("math_train_500.jsonl: no MATH-500 problem", shared(train, test) == 0,
  tostring(shared(train, test)))
check("math_train_500.jsonl: the SHA-256 of data/README.md",
  mux.file_sha256(home .. "/data/math_train_500.jsonl")
    == "8d8dce3282ef384bcb755e4e7fb6b5536395d6bca923f13b2ca002452ddca43d")
check("the MATH task's validation file is it",
  tasks.settings("math").validation.data == "data/math_train_500.jsonl")

local gsm = tasks.resolve("gsm8k", {})
local v = tasks.settings("gsm8k").validation
local gtrain = gsm.load(home .. "/" .. v.data)
local slice = {}
for i = 1, v.limit do slice[i] = gtrain[i] end
check("GSM8K validation: 500 training problems", #slice == 500 and v.limit == 500)
for _, f in ipairs({"data/gsm8k_500.json", "data/gsm8k_test.jsonl"}) do
  local n = shared(slice, gsm.load(home .. "/" .. f))
  check("GSM8K validation: no question of " .. f, n == 0, tostring(n))
end

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
