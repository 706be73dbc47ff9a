-- Whole runs on the simulator: results.jsonl has one valid line per problem,
-- summary.json has the promised fields and agrees with the lines, failed
-- problems are excluded from accuracy and counted, and settings coerce.
local cjson = require "cjson"
local mux = require "slmmux"
local runner = require "slmmux.run"
local data = require "slmmux.data"

local MATH = (mux.home or ".") .. "/data/math_500.json"
local PROFILES = {
  good = {accuracy = 0.7, consistency = 0.4, latency_ms = 5, tokens = 200},
  fair = {accuracy = 0.5, consistency = 0.4, latency_ms = 5, tokens = 150},
  flaky = {accuracy = 0.5, consistency = 0.4, latency_ms = 5, tokens = 150, error_rate = 0.4},
}

local root = os.tmpname()
os.remove(root)
local function dir(name) return root .. "/" .. name end

-- validation = "none" unless a test is about validation.
local function recipe(extra)
  local r = {task = "math", data = MATH, models = {"good", "fair"}, backend = "sim",
    profiles = PROFILES, quiet = true, samples = 3, validation = "none"}
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local function read_lines(path)
  local lines = {}
  for l in io.lines(path) do lines[#lines + 1] = cjson.decode(l) end
  return lines
end

local function read_json(path)
  local f = assert(io.open(path))
  local v = cjson.decode(f:read("a"))
  f:close()
  return v
end

local function fails(fn, ...)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error")
  for _, part in ipairs({...}) do
    assert(tostring(err):find(part, 1, true), "error '" .. tostring(err) .. "' lacks '" .. part .. "'")
  end
end

local function close(a, b) return math.abs(a - b) < 1e-9 end

-- 1. A full run: --limit and --out from the command line.
local out = dir("full")
local summary = runner.run(recipe({prices = {good = {input = 0.3, output = 0.6}}}),
  {limit = 20, out = out, overrides = {}})
local lines = read_lines(out .. "/results.jsonl")
assert(#lines == 20, "one line per problem, got " .. #lines)
local correct, ids = 0, {}
for _, l in ipairs(lines) do
  assert(type(l.id) == "string" and not ids[l.id], "unique ids")
  ids[l.id] = true
  assert(type(l.problem) == "string" and type(l.reference) == "string")
  assert(l.error == nil and type(l.correct) == "boolean", "no error on the simulator")
  assert(l.selected_model == "good" or l.selected_model == "fair")
  assert(#l.models == 2, "both models recorded")
  for _, m in ipairs(l.models) do
    assert(#m.calls == 3 and m.usage.completion_tokens > 0 and m.requests == 1)
    for _, c in ipairs(m.calls) do
      local said = l.transcript[c.turn].choices[c.choice]
      assert(type(said.text) == "string" and said.answer == c.answer and c.finish_reason
        and type(c.correct) == "boolean" and c.text == nil, "a call names its turn, which has its text")
    end
    assert(type(m.confidence) == "number" and m.votes)
  end
  if l.correct then correct = correct + 1 end
end
local s = read_json(out .. "/summary.json")
assert(s.backend == "sim" and s.simulated == true and s.version == mux.version)
assert(s.counts.total == 20 and s.counts.scored == 20 and s.counts.errors == 0)
assert(s.accuracy.n == 20 and s.accuracy.correct == correct, "accuracy agrees with the lines")
local p = correct / 20
assert(close(s.accuracy.value, p) and close(s.accuracy.stderr, math.sqrt(p * (1 - p) / 20)))
assert(#s.models == 2 and s.models[1].model == "good" and s.models[2].model == "fair")
local share = 0
for i, row in ipairs(s.models) do
  local pass1 = 0
  for _, l in ipairs(lines) do
    if l.models[i].calls[1].correct then pass1 = pass1 + 1 end
  end
  assert(row.pass1.correct == pass1 and row.pass1.n == 20, "pass@1 from sample 0")
  assert(row.self_consistency.n == 20 and row.samples == 3)
  assert(row.tokens.total == row.tokens.prompt + row.tokens.completion and row.tokens.total > 0)
  share = share + row.selected.share
end
assert(close(share, 1), "attribution shares add up to 1")
assert(type(s.models[1].cost_usd) == "number" and s.models[2].cost_usd == cjson.null)
assert(s.cost_usd.unpriced_models[1] == "fair", "unpriced models are named")
assert(s.oracle.value >= s.models[1].self_consistency.value, "oracle bounds each model")
assert(s.any_sample.value >= s.oracle.value)
assert(s.tokens.total == s.models[1].tokens.total + s.models[2].tokens.total)
assert(s.wall_s > 0 and s.requests.calls == 40 and s.config.samples == 3)
assert(s.config.models[2] == "fair" and s.config.limit == 20 and s.task == "math")
assert(summary.accuracy.correct == correct, "run() returns the summary")

-- 2. Failed requests: the problem is an error, excluded from accuracy, counted.
out = dir("errors")
runner.run(recipe({models = {"good", "flaky"}, limit = 40, out = out}), {overrides = {}, max_errors = 1})
lines = read_lines(out .. "/results.jsonl")
s = read_json(out .. "/summary.json")
local errors, scored_right = 0, 0
for _, l in ipairs(lines) do
  if l.error then
    errors = errors + 1
    assert(l.correct == cjson.null and l.final_answer == nil, "an error has no answer")
    assert(l.error:find("flaky", 1, true) and l.error:find("503", 1, true), l.error)
    assert(l.error_info.kind == "http")
  elseif l.correct then
    scored_right = scored_right + 1
  end
end
assert(#lines == 40 and errors > 0 and errors < 40, "errors: " .. errors)
assert(s.counts.errors == errors and s.counts.scored == 40 - errors and s.counts.total == 40)
assert(s.accuracy.n == 40 - errors and s.accuracy.correct == scored_right)
assert(s.errors[1].count == errors and s.errors[1].message:find("503"))

-- 2b. Too many failed problems fail the run (exit status 1), after summary.json:
-- more than the --max-errors share (default 0.1), or every problem.
out = dir("too_many")
fails(function() runner.run(recipe({models = {"good", "flaky"}, limit = 40, out = out}), {overrides = {}}) end,
  "problems failed (more than --max-errors 0.1)", "503")
assert(read_json(out .. "/summary.json").counts.errors > 4, "summary.json is written first")
runner.run(recipe({models = {"good", "flaky"}, limit = 40, out = dir("share")}), {overrides = {}, max_errors = 0.5})
local dead = {accuracy = 0.5, consistency = 0.4, latency_ms = 1, tokens = 10, error_rate = 1}
fails(function()
  runner.run(recipe({models = {"dead"}, profiles = {dead = dead}, limit = 5, out = dir("dead")}),
    {overrides = {}, max_errors = 1})
end, "all 5 problems failed; the first error")

-- 2c. Resume: with the same --out and settings, the problems already in
-- results.jsonl are kept and not solved again; a torn last line (a crash
-- mid-write) is cut off and its problem solved again; other settings are
-- refused rather than mixed in.
local solved = 0
local function counting(problem, ctx)
  solved = solved + 1
  return require("slmmux.policies").get("slm_mux").solve(problem, ctx)
end
out = dir("resume")
runner.run(recipe({solve = counting, limit = 10}), {overrides = {}, out = out})
local whole = read_lines(out .. "/results.jsonl")
local f = assert(io.open(out .. "/results.jsonl", "rb"))
local text = f:read("a")
f:close()
local cut, pos = 0, 0
for _ = 1, 6 do pos = text:find("\n", pos + 1, true) end
cut = pos
f = assert(io.open(out .. "/results.jsonl", "wb"))
f:write(text:sub(1, cut), text:sub(cut + 1, cut + 40))   -- 6 lines and a torn seventh
f:close()
solved = 0
local resumed = runner.run(recipe({solve = counting, limit = 10}), {overrides = {}, out = out})
local again = read_lines(out .. "/results.jsonl")
assert(solved == 4, "solved " .. solved .. " problems again, not the 4 missing")
assert(#again == 10 and resumed.counts.total == 10, #again .. " lines")
local by_id = {}
for _, l in ipairs(whole) do by_id[l.id] = l end
for _, l in ipairs(again) do
  assert(by_id[l.id] and by_id[l.id].final_answer == l.final_answer, "same problems, same answers")
  by_id[l.id] = nil
end
assert(next(by_id) == nil, "every problem once")
fails(function() runner.run(recipe({solve = counting, limit = 10, samples = 2}), {overrides = {}, out = out}) end,
  "holds results of other settings", out)

-- 3. Validation records are held out; shuffling is deterministic per seed.

-- 3. Validation: every problem is evaluated; the task's validation file by
-- default; records held out only when asked for (and then never evaluated);
-- crossfit measures each problem's accuracies on the other folds.
local all = require("slmmux.tasks.math").load(MATH)
local function run_ids(name, extra, without)
  local r = recipe(extra)
  for _, k in ipairs(without or {}) do r[k] = nil end
  runner.run(r, {overrides = {}, out = dir(name)})
  local set, list = {}, {}
  for _, l in ipairs(read_lines(dir(name) .. "/results.jsonl")) do
    set[l.id] = true
    list[#list + 1] = l.id
  end
  return set, list, read_json(dir(name) .. "/summary.json")
end
local first10, list, sd = run_ids("default", {limit = 10}, {"validation"})
for i = 1, 10 do assert(first10[all[i].id], "record " .. i .. " evaluated: none held out") end
assert(#list == 10)
assert(sd.validation.kind == "data" and sd.validation.problems == 500, "MATH's training split")
assert(sd.validation.source:find("math_train_500.jsonl", 1, true), sd.validation.source)
assert(sd.config.validation.samples == 1 and sd.validation.models[1].accuracy.n == 500)
assert(sd.models[1].validation_accuracy == sd.validation.models[1].accuracy.value)
assert(sd.manifest.data[2].role == "validation" and sd.manifest.data[2].records == 500)
local _, _, s2 = run_ids("two", {validation = 20, validation_samples = 2, limit = 3})
assert(s2.validation.problems == 20 and s2.validation.models[1].accuracy.n == 40, "20 x 2 samples")
local plain, _, sv = run_ids("holdout", {task = "gpqa", validation = 5, limit = 10}, {"data"})
local gpqa_all = require("slmmux.tasks.gpqa").load(mux.home .. "/data/gpqa_diamond.json.gz")
for i = 1, 5 do assert(not plain[gpqa_all[i].id], "held-out record " .. i .. " was evaluated") end
for i = 6, 15 do assert(plain[gpqa_all[i].id], "record " .. i .. " should be evaluated") end
assert(sv.validation.kind == "holdout" and sv.validation.problems == 5, sv.validation.kind)
local cf_set, cf_list, scf = run_ids("crossfit", {validation = "crossfit", folds = 3, limit = 9})
assert(#cf_list == 9 and cf_set[all[1].id], "crossfit evaluates every problem")
assert(scf.validation.kind == "crossfit" and #scf.validation.folds == 3)
assert(scf.validation.samples_per_problem == 3 and scf.validation.models[1].accuracy.n == 27)
for _, f in ipairs(scf.validation.folds) do
  assert(f.problems == 3 and f.measured_on == 6, "fold sizes")
end
assert(scf.requests.calls == 18, "crossfit's samples are the evaluation's: " .. scf.requests.calls)
local sh1 = run_ids("shuffle1", {limit = 10, shuffle = true, seed = 7})
local sh2 = run_ids("shuffle2", {limit = 10, shuffle = true, seed = 7})
local sh3 = run_ids("shuffle3", {limit = 10, shuffle = true, seed = 8})
local same, other = true, false
for id in pairs(sh1) do
  same = same and sh2[id]
  other = other or not sh3[id]
end
assert(same and other, "same seed, same problems; another seed, others")

-- 4. Settings: -s coerces by the setting's type; unknown keys list the valid ones.
local cfg = runner.configure(recipe({lambda = 0.5}), {overrides = {samples = "5",
  models = "a, b ,c", early_exit = "yes", temperature = "0.7", lambda = "2", policy = "single"},
  limit = 7})
assert(cfg.samples == 5 and math.type(cfg.samples) == "integer")
assert(#cfg.models == 3 and cfg.models[2] == "b" and cfg.early_exit == true)
assert(cfg.temperature == 0.7 and cfg.lambda == 2 and cfg.policy == "single" and cfg.limit == 7)
cfg = runner.configure(recipe(), {overrides = {limit = "3"}, limit = 9})
assert(cfg.limit == 9, "--limit wins over -s limit")
fails(function() runner.configure(recipe(), {overrides = {sampels = "5"}}) end,
  "sampels", "samples", "temperature", "models")
fails(function() runner.configure(recipe({lambda = 1}), {overrides = {bogus = "1"}}) end, "lambda")
fails(function() runner.configure(recipe(), {overrides = {samples = "three"}}) end, "samples=three")
fails(function() runner.configure(recipe(), {overrides = {samples = "2.5"}}) end, "integer")
fails(function() runner.configure(recipe(), {overrides = {early_exit = "maybe"}}) end, "early_exit")
fails(function() runner.configure(recipe(), {overrides = {accuracy = "x"}}) end, "accuracy=x",
  "MODEL=ACCURACY")
fails(function() runner.configure(recipe(), {overrides = {samples = "0"}}) end, "samples")
fails(function() runner.configure(recipe({models = {}}), {}) end, "models")
fails(function() runner.configure(recipe({models = {"a", "a"}}), {}) end, "twice")
fails(function() runner.configure(recipe({samples = "3"}), {}) end, "samples")
fails(function() runner.configure(recipe(), {overrides = {backend = "gpu"}}) end, "backend")
fails(function() runner.run(recipe({policy = "bogus"}), {overrides = {}}) end,
  "bogus", "slm_mux", "majority", "single")
fails(function() runner.run(recipe({task = "nope"}), {overrides = {}}) end, "nope", "math")

-- 4b. Where each setting came from, the task's settings, and the forms of
-- validation and accuracy.
local src
cfg, src = runner.configure(recipe(), {overrides = {samples = "5"}, limit = 7})
assert(src.samples == "-s" and src.limit == "--limit" and src.models == "recipe")
assert(src.max_tokens == "task" and src.policy == "default", "the task's, then the defaults")
cfg, src = runner.configure({task = "gsm8k", quiet = true}, {overrides = {}})
assert(cfg.max_tokens == 1024 and src.max_tokens == "task" and #cfg.models == 2)
assert(cfg.validation.kind == "data" and cfg.validation.data == "data/gsm8k_train.jsonl"
  and cfg.validation.limit == 500 and cfg.validation.samples == 1, "GSM8K's training split")
cfg = runner.configure({task = "math"}, {overrides = {task = "gpqa"}})
assert(cfg.task == "gpqa" and cfg.models[2] == "google/gemma-2-27b-it", "-s task=gpqa: its settings")
assert(cfg.validation.kind == "crossfit" and cfg.validation.folds == 5 and cfg.validation.samples == 3)
cfg = runner.configure({task = "humaneval"}, {overrides = {validation = "crossfit", folds = "4"}})
assert(cfg.validation.folds == 4 and cfg.validation.samples == 5, "crossfit samples are k")
cfg = runner.configure(recipe(), {overrides = {validation = "7", validation_samples = "2"}})
assert(cfg.validation.kind == "data" and cfg.validation.data == "data/math_train_500.jsonl"
  and cfg.validation.limit == 7 and cfg.validation.samples == 2, "N: the task's file")
cfg = runner.configure(recipe(), {overrides = {validation = "some/val.jsonl"}})
assert(cfg.validation.kind == "data" and cfg.validation.data == "some/val.jsonl" and not cfg.validation.limit)
for _, none in ipairs({"none", "false", "0", "off"}) do
  assert(runner.configure(recipe(), {overrides = {validation = none}}).validation == nil, none)
end
cfg, src = runner.configure(recipe({validation = 5}), {overrides = {accuracy = "good=0.7, fair = 0.55"}})
assert(cfg.accuracy.good == 0.7 and cfg.accuracy.fair == 0.55 and cfg.validation == nil,
  "-s accuracy: given accuracies, no validation")
cfg = runner.configure(recipe({accuracy = {good = 0.6}}), {overrides = {validation = "crossfit"}})
assert(cfg.accuracy == nil and cfg.validation.kind == "crossfit", "-s validation beats the recipe's accuracy")
cfg = runner.configure(recipe({accuracy = {good = 0.6}}), {overrides = {}})
assert(cfg.accuracy.good == 0.6 and cfg.validation == nil)
fails(function() runner.configure(recipe({accuracy = {good = 0.6}, validation = 5}), {}) end,
  "accuracy", "validation", "not both")
fails(function() runner.configure(recipe(), {overrides = {accuracy = "gpt=0.5"}}) end, "gpt", "good, fair")
fails(function() runner.configure(recipe({accuracy = {good = 1.5}}), {}) end, "good", "0 to 1")
fails(function() runner.configure(recipe(), {overrides = {folds = "1"}}) end, "folds")
fails(function() runner.configure(recipe(), {overrides = {compat = "strict"}}) end, "compat=strict")
fails(function() runner.configure(recipe(), {overrides = {validation_samples = "0"}}) end,
  "validation_samples")
fails(function() runner.configure(recipe({task = "gpqa", validation = {offset = 2}}), {}) end,
  "validation", "limit")
local own = {name = "own", load = function() return {{id = "a", text = "?", reference = "1"}} end,
  prompt = function(p) return {{role = "user", content = p.text}} end,
  extract = function(t) return t end, score = function() return true end}
fails(function() runner.run(recipe({task = own}), {overrides = {prompts = "slmmux"}}) end,
  "prompts=slmmux", "own")
fails(function() runner.run(recipe({task = own}), {overrides = {compat = "reference"}}) end,
  "compat=reference", "own")

-- 4c. compat=reference: the reference's scoring decides, and each line also
-- says whether slmmux's extraction and equivalence accept the same sample.
s = runner.run(recipe({compat = "reference", limit = 12}), {overrides = {}, out = dir("compat")})
lines = read_lines(dir("compat") .. "/results.jsonl")
local eq = 0
for _, l in ipairs(lines) do
  assert(type(l.correct_equivalence) == "boolean", "correct_equivalence on every line")
  if l.correct_equivalence then eq = eq + 1 end
end
assert(s.compat.scoring == "reference" and s.compat.accuracy.correct == s.accuracy.correct)
assert(s.compat.equivalence.correct == eq and s.compat.equivalence.n == 12)

-- 5. A recipe's solve is its policy; -s policy=NAME switches to the built-in one.
local seen = 0
local function solve(problem, ctx)
  seen = seen + 1
  local per_model, err = ctx.sample_all(1)
  if not per_model then return nil, err end
  return {answer = per_model[1].answers[1], model = per_model[1].model, confidence = 1}
end
s = runner.run(recipe({solve = solve, name = "first answer", limit = 4}),
  {overrides = {}, out = dir("solve")})
assert(seen == 4 and s.label == "first answer" and s.models[1].samples == 1)
s = runner.run(recipe({solve = solve, limit = 4}), {overrides = {policy = "majority"},
  out = dir("majority")})
assert(seen == 4 and s.label == "Agent Forest (majority)" and s.policy == "majority")
-- A policy a recipe registers is chosen by -s policy=NAME, and named in errors.
require("slmmux.policies").register("first_seen", {label = "first answer seen",
  description = "the first answer of the first model", solve = solve})
s = runner.run(recipe({limit = 3}), {overrides = {policy = "first_seen"}, out = dir("registered")})
assert(seen == 7 and s.policy == "first_seen" and s.label == "first answer seen")
fails(function() runner.run(recipe({policy = "bogus"}), {overrides = {}}) end, "first_seen")

-- 6. Backend: models with and without endpoints do not mix.
local saved = mux.config
mux.config = {resolve = function(m) if m == "good" then return {name = "x", base_url = "http://h"} end end}
local ok, err = pcall(runner.run, recipe({backend = "auto", limit = 1}), {overrides = {}, out = dir("mix")})
mux.config = saved
assert(not ok and err:find("fair", 1, true) and err:find("backend=sim", 1, true), tostring(err))

-- 7. Base URLs in summary.json lose their credentials.
local strip = require("slmmux.run.manifest").strip_url
assert(strip("https://user:pw@api.example.com/v1") == "https://api.example.com/v1")
assert(strip("http://127.0.0.1:8000/v1?api_key=abc#x") == "http://127.0.0.1:8000/v1")
assert(strip("http://h/v1/a@b") == "http://h/v1/a@b", "an @ in the path is no credential")

os.execute("rm -rf -- " .. data.quote(root))
print("test_runner: ok")
