-- The reference prompts, byte for byte: for one record of each task, the
-- messages slmmux sends with prompts = "reference" (the default) equal the
-- SLM-MUX reference release's runtime messages (tests/fixtures/
-- reference_prompts.json, taken from that code and checked there by running
-- it), filled by literal replacement as its notes say; prompts = "slmmux"
-- keeps the former wording; filling never processes braces.
local cjson = require "cjson"
local mux = require "slmmux"
local prompts = require "slmmux.tasks.prompts"
local tasks = require "slmmux.tasks"

local home = mux.home or "."
local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local f = assert(io.open(home .. "/tests/fixtures/reference_prompts.json", "rb"))
local fixture = cjson.decode(f:read("a"))
f:close()

-- The fixture's rule, independent of slmmux.tasks.prompts: each token
-- replaced where it stands in the template, the rest untouched.
local function literal(template, fields)
  local out, at = {}, 1
  while at <= #template do
    local hit
    for token, value in pairs(fields) do
      if template:sub(at, at + #token - 1) == token then hit = {token, value} end
    end
    if hit then
      out[#out + 1] = hit[2]
      at = at + #hit[1]
    else
      out[#out + 1] = template:sub(at, at)
      at = at + 1
    end
  end
  return table.concat(out)
end

local function first(task, path)
  return task.load(home .. "/" .. path)[1]
end

local function compare(name, task, problem, fields, want)
  local got = task.prompt(problem)
  local sys, user = want.system, literal(want.user, fields)
  check(name .. ": two messages, system then user",
    #got == 2 and got[1].role == "system" and got[2].role == "user")
  check(name .. ": the system message, byte for byte", got[1].content == sys,
    string.format("%q", got[1].content))
  check(name .. ": the user message, byte for byte", got[2].content == user,
    string.format("got %q, want %q", got[2].content, user))
end

local iclr = fixture.iclr
local math_task = tasks.resolve("math", {})
local m = first(math_task, "data/math_500.json")
compare("math (MATH-500 record 1)", math_task, m, {["{problem}"] = m.problem}, iclr.math)
local mt = first(math_task, "data/math_train_500.jsonl")
compare("math (training record 1)", math_task, mt, {["{problem}"] = mt.problem}, iclr.math)
check("math: the user message ends in \\boxed{{...}}, double braces as the reference sends",
  math_task.prompt(m)[2].content:sub(-13) == "\\boxed{{...}}")

local gsm = tasks.resolve("gsm8k", {})
local g = first(gsm, "data/gsm8k_500.json")
compare("gsm8k (record 1)", gsm, g, {["{problem}"] = g.question}, iclr.gsm8k)

local gpqa = tasks.resolve("gpqa", {})
local q = first(gpqa, "data/gpqa_diamond.json.gz")
compare("gpqa (record 1)", gpqa, q,
  {["{problem}"] = q.question, ["{choices}"] = table.concat(q.choices, "\n")}, iclr.gpqa)
check("gpqa: a choice string's own newline stays (an empty line in the block)",
  gpqa.prompt(q)[2].content:find("A 10^-8 eV\n\nB 10^-11 eV\n", 1, true) ~= nil)

local he = tasks.resolve("humaneval", {})
local h = first(he, "data/HumanEval.jsonl.gz")
compare("humaneval (HumanEval/0)", he, h, {["{problem}"] = h.prompt}, iclr.humaneval)

-- Every gpqa record: the reference's block is the stored strings, one a line.
local all_ok = true
for _, p in ipairs(gpqa.load(home .. "/data/gpqa_diamond.json.gz")) do
  local want = literal(iclr.gpqa.user, {["{problem}"] = p.question,
    ["{choices}"] = table.concat(p.choices, "\n")})
  all_ok = all_ok and gpqa.prompt(p)[2].content == want
end
check("gpqa: all 198 user messages equal the reference's", all_ok)

-- The former wording stays available as prompts = "slmmux".
local old = tasks.resolve("math", {prompts = "slmmux"}).prompt(m)
check("prompts=slmmux: the former MATH wording",
  old[2].content == "Problem:\n" .. m.problem .. "\n\nPut the final answer in the form \\boxed{...}."
  and old[1].content:find("^You are a helpful math assistant%.") ~= nil)
local oq = tasks.resolve("gpqa", {prompts = "slmmux"}).prompt(q)[2].content
check("prompts=slmmux: GPQA options as (A) lines", oq:find("\n(A) 10^-8 eV\n(B) ", 1, true) ~= nil)
local ok, err = pcall(tasks.resolve, "math", {prompts = "fancy"})
check("an unknown style names the styles", not ok and tostring(err):find("reference, slmmux", 1, true),
  tostring(err))

-- Filling: one pass, inserted text is never scanned, other braces stay.
check("fill: inserted text is not filled again",
  prompts.fill("{problem}|{choices}", {problem = "{choices}", choices = "x"}) == "{choices}|x")
check("fill: braces that are not tokens stay", prompts.fill("\\boxed{{...}} {x} {problem}",
  {problem = "p"}) == "\\boxed{{...}} {x} p")

-- A run sends them: the simulator sees the reference's messages.
local seen
local task = tasks.resolve("gsm8k", {})
local ctx = require("slmmux.run.context").new(g, {task = task, models = {"m"},
  opts = {temperature = 0.3, max_tokens = 10}, chat = function(req)
    seen = req
    return {choices = {{text = "#### 18", finish_reason = "stop"}}, usage = {}}
  end})
ctx.sample("m", 1)
check("a request carries the rendered messages", seen and seen.messages[2].content == "Problem:\n" .. g.question)

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
