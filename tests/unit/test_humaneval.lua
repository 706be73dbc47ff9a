-- HumanEval: programs are scored by running the hidden test in the sandbox
-- (a pass needs exit 0 and the judge's verdict behind the run's secret token
-- last on stdout; hostile candidates are in tests/security), agreement
-- groups programs by what they do on the docstring inputs, pass@k uses the
-- unbiased estimator, and a simulated run goes end to end.
--   ./slmmux run tests/unit/test_humaneval.lua --no-store
local mux = require "slmmux"
local agree = require "slmmux.agree"
local humaneval = require "slmmux.tasks.humaneval"
local data = require "slmmux.data"

local home = mux.home or "."
local t0 = mux.now()
local task = humaneval.new{timeout = 2, cpu = 2}
local problems = task.load(home .. "/data/HumanEval.jsonl.gz")
local by_id = {}
for _, p in ipairs(problems) do by_id[p.id] = p end

local function fails(fn, part)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  assert(tostring(err):find(part, 1, true), "error '" .. tostring(err) .. "' lacks '" .. part .. "'")
end

-- The dataset loads, with ids, references and the prompt's probes.
assert(#problems == 164, "164 problems")
assert(problems[1].id == "HumanEval/0" and problems[1].entry_point == "has_close_elements")
assert(problems[1].reference:find("def has_close_elements", 1, true), "reference is a program")

-- The prompt asks for a fenced python block and shows the problem (the
-- reference's: the prompt field alone as the user message).
local msgs = task.prompt(problems[1])
local user = msgs[#msgs].content
assert(msgs[1].content:find("```python", 1, true) and user == problems[1].prompt, "prompt")

-- Probes: ">>> f(args)" lines, "f(args) ==> y" lines, multi-line calls;
-- prose such as f(n) is no probe; never the hidden test.
local p0 = by_id["HumanEval/0"]
assert(#p0.probes == 2 and p0.probes[1] == "[1.0, 2.0, 3.0], 0.5", "probes of HumanEval/0")
assert(by_id["HumanEval/32"].probes[1] == "[1, 2]", "call inside round(...)")
local p87 = by_id["HumanEval/87"].probes
assert(#p87 == 3 and p87[1]:find("^%[ %[1,2,3,4,5,6%], ") and p87[2] == "[], 1", "multi-line call")
assert(#by_id["HumanEval/80"].probes == 0, "is_happy(a) is prose, not a probe")
local pr = agree.probes('def f(x, y):\n    """\n    >>> f(1, "a)")\n    f(n) == n\n'
  .. "    f([1, 2], None) ==> 3\n    f(2, g(3))\n    >>> f(1, \"a)\")\n    \"\"\"\n", "f")
assert(#pr == 2 and pr[1] == '1, "a)"' and pr[2] == "[1, 2], None", "probe parsing: " .. #pr)
fails(function() agree.probes("x", "not an id") end, "entry_point")

-- Canonical solutions pass (10 problems spread over the set, all at once).
local sample = {}
for i = 1, 164, 17 do sample[#sample + 1] = problems[i] end
local outcomes = mux.map(sample, function(p) return task.outcome(p.reference, p) end)
for i, r in ipairs(outcomes) do
  assert(r.outcome == "pass", sample[i].id .. ": canonical solution " .. r.outcome
    .. " (" .. tostring(r.reason) .. ")")
end

-- Wrong programs fail, and how.
local function outcome(code, p) return task.outcome(code, p or p0) end
local wrong = outcome(p0.prompt .. "    return True\n")
assert(wrong.outcome == "fail" and wrong.reason == "AssertionError", "wrong program: " .. wrong.outcome)
assert(not task.score(p0.prompt .. "    return True\n", p0) and task.score(p0.reference, p0))
-- Leaving early with status 0, before the asserts, is no pass.
local exit0 = outcome("import os\nos._exit(0)\n" .. p0.reference)
assert(exit0.outcome == "fail", "os._exit(0) at the top passed")
assert(outcome("import sys\nsys.exit(0)\n" .. p0.reference).outcome == "fail", "sys.exit(0)")
-- Printing something token-like, or reading stdin for the token, is no pass.
assert(outcome(p0.reference .. "\nimport sys\nprint(sys.stdin.read())\n").outcome == "pass")
assert(outcome("import sys\nprint(sys.stdin.read())\nimport os\nos._exit(0)\n").outcome == "fail")
-- Output of the program itself does not disturb a pass.
assert(outcome(p0.reference .. "\nprint('hello')\n").outcome == "pass", "printing program")
local loop = outcome(p0.prompt .. "    while True:\n        pass\n")
assert(loop.outcome == "timeout", "infinite loop: " .. loop.outcome)
local segv = outcome(p0.prompt .. "    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
assert(segv.outcome == "crash" and segv.reason == "signal 11", "crash: " .. tostring(segv.reason))
assert(outcome("def broken(:\n").outcome == "fail", "syntax error")
-- A hidden test that does not load is the judge's failure: an error, never a fail.
fails(function()
  task.outcome("def f(x):\n    return x\n", {id = "bad", prompt = "def f(x):\n", entry_point = "f",
    test = "def check(:\n"})
end, "the judge could not judge: the hidden test does not load: SyntaxError")
-- A program is run once however often it is scored.
local runs = task.stats.test_runs
assert(task.score(p0.reference, p0) and task.stats.test_runs == runs, "memoized")

-- Extraction: a fenced block; a bare body goes under the prompt.
local full = task.extract("Here:\n```python\n" .. p0.reference .. "```\nDone.", p0)
assert(full == p0.reference:gsub("\n$", ""), "fenced block")
local body = "```python\nfor i, a in enumerate(numbers):\n    for b in numbers[i + 1:]:\n"
  .. "        if abs(a - b) < threshold:\n            return True\nreturn False\n```"
local code = task.extract(body, p0)
assert(code:sub(1, #p0.prompt) == p0.prompt and code:find("\n    for i, a in", 1, true), "body")
assert(task.outcome(code, p0).outcome == "pass", "body under the prompt passes")
-- Helpers of the prompt are there when the reply leaves them out.
local p38 = by_id["HumanEval/38"]
local decode = "def decode_cyclic(s: str):\n    return encode_cyclic(encode_cyclic(s))\n"
assert(task.outcome(decode, p38).outcome == "pass", "prompt helpers prepended")

-- Agreement: textually different, behaviourally equal programs group;
-- a different behaviour and a program that does not run do not.
local same1 = p0.reference
local same2 = "from typing import List\n\ndef has_close_elements(numbers, threshold):\n"
  .. "    s = sorted(numbers)\n"
  .. "    return any(b - a < threshold for a, b in zip(s, s[1:]))\n"
local other = p0.prompt .. "    return False\n"
local sigs = task.signatures({same1, same2, other, "def has_close_elements(:\n", false}, p0)
assert(sigs[1] and sigs[1] == sigs[2], "equal behaviour, one group")
assert(sigs[3] and sigs[3] ~= sigs[1], "different behaviour, another group")
assert(sigs[4] == false and sigs[5] == false, "no signature for a syntax error or no program")
assert(task.equiv(same1, same2) and not task.equiv(same1, other), "task.equiv follows signatures")
local groups = agree.groups({"a", false, "b", "a", false})
assert(#groups == 2 and #groups[1].members == 2 and groups[1].signature == "a", "groups")
-- An exception is behaviour too; a slow probe is cut off by its own alarm.
local src = "def f(x):\n    if x == 0:\n        raise ValueError()\n    if x == 2:\n"
  .. "        while True: pass\n    return {3, 1, 2} if x == 1 else x / 2\n"
local sig = agree.signature(src, "f", {"0", "1", "2", "4"})
local parts = require("cjson").decode(sig)
assert(parts[1] == "!ValueError" and parts[2] == "={1, 2, 3}" and parts[3] == "!Timeout"
  and parts[4] == "=2", "signature " .. sig)
local two = "def f(x):\n    return x * 2\n"
local many, why = agree.signatures({two, "def f(x):\n    return x + x\n", false, "x = (\n"}, "f", {"3"})
assert(many[1] == '["=6"]' and many[2] == many[1] and many[3] == false and many[4] == false
  and why[4] == "SyntaxError", "agree.signatures: " .. tostring(why[4]))

-- Variants of the docstring inputs: made from the probes alone, new ones only.
local vars = agree.variants({"[1, 2], 3", "'ab'"}, 2)
assert(#vars == 3 and vars[1] == "[2, 1], 6" and vars[2] == "[2, 1], 5" and vars[3] == "'ba'",
  "variants: " .. table.concat(vars, " | "))
local with = task.probes(p0, 2)
assert(#with > #p0.probes and with[1] == p0.probes[1], "task.probes with variants")
local vsig = task.signatures({same1, same2}, p0, {variants = 2})
assert(vsig[1] == vsig[2] and vsig[1] ~= sigs[1], "variants enter the signature")

-- Selection across models (SLM-MUX rule): 3/5 beats 2/5; the program
-- returned is one of the winning group.
if mux.vote and mux.vote.mux then
  local a, b, c = "prog-a", "prog-b", "prog-c"
  local d = agree.select({
    {model = "m1", programs = {a, b, a, c, false}, signatures = {"x", "y", "x", "z", false}},
    {model = "m2", programs = {c, c, b, c, a}, signatures = {"z", "z", "y", "z", "x"}},
  })
  assert(d.model == "m2" and d.answer == c and d.confidence == 0.6, "select by confidence")
  local tie = agree.select({
    {model = "m1", programs = {a, b}, signatures = {"x", "y"}},
    {model = "m2", programs = {c, c}, signatures = {"z", "w"}},
  }, {accuracy = {m1 = 0.2, m2 = 0.9}})
  assert(tie.model == "m2" and tie.reason == "tie_accuracy", "tie to validation accuracy")
  local none = agree.select({{model = "m1", programs = {a}, signatures = {false}}})
  assert(none.answer == nil and none.confidence == 0, "no program ran")
end

-- The Python programs are files of the library, read from the slmmux home.
local files = require "slmmux.files"
local harness = assert(io.open(home .. "/lua/slmmux/agree/harness.py")):read("a")
assert(files.read("agree/harness.py") == harness and harness:find("def _canon", 1, true))
assert(files.read("tasks/humaneval/driver.py"):find("def _judge", 1, true))
fails(function() files.read("agree/absent.py") end, home .. "/lua/slmmux/agree/absent.py")

-- pass@k: 1 - C(n-c, k) / C(n, k), by hand.
local function near(x, y) return math.abs(x - y) < 1e-12 end
assert(near(humaneval.pass_at_k(5, 1, 1), 0.2))
assert(near(humaneval.pass_at_k(5, 2, 2), 1 - 3 / 10))
assert(near(humaneval.pass_at_k(10, 3, 5), 1 - 21 / 252))
assert(humaneval.pass_at_k(5, 0, 3) == 0 and humaneval.pass_at_k(5, 4, 2) == 1)
assert(near(humaneval.pass_at_k(200, 1, 100), 0.5), "large n without overflow")
assert(near(humaneval.pass_at_k(200, 100, 100), 1), "C(200,100) would overflow a double product")
fails(function() humaneval.pass_at_k(5, 6, 1) end, "c <= n")

-- The simulator's wrong programs are wrong, and come back out of a reply.
local sim_texts = require("slmmux.sim.texts").for_task(task)
local miss = sim_texts.wrong(p0, 1)
assert(miss ~= p0.reference and not task.score(miss, p0) and sim_texts.rejects(miss, p0), "near miss fails")
assert(task.extract(sim_texts.text(miss, p0, 0), p0) == miss, "stated program round trip")

-- End to end on the simulator: 3 problems, 2 models x 3 samples.
local dir = os.tmpname()
os.remove(dir)
local run_task = humaneval.new{timeout = 5}
local summary = mux.run{task = run_task, models = {"sim/qwen2.5-7b", "sim/llama-3.1-8b"},
  samples = 3, limit = 3, backend = "sim", out = dir, quiet = true, concurrency = 3,
  solve = function(problem, ctx)
    local d = agree.solve(problem, ctx)
    run_task.annotate(ctx)
    return d
  end}
local h = humaneval.metrics(summary, run_task)
assert(h.scored == 3 and #h.models == 2 and h.k == 3, "metrics")
assert(h.models[1].pass["pass@3"] >= h.models[1].pass["pass@1"], "pass@k >= pass@1")
assert(h.executions == run_task.stats.test_runs + run_task.stats.probe_runs and h.executions > 0)
local line = require("cjson").decode(io.lines(dir .. "/results.jsonl")())
local call = line.models[1].calls[1]
assert(call.behaviour ~= nil and call.outcome ~= nil, "samples carry behaviour and outcome")
os.execute("rm -rf " .. data.quote(dir))

io.write(string.format("test_humaneval: ok (%.1f s, %d test runs, %d probe runs)\n",
  mux.now() - t0, task.stats.test_runs, task.stats.probe_runs))
