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

local function recipe(extra)
  local r = {task = "math", data = MATH, models = {"good", "fair"}, backend = "sim",
    profiles = PROFILES, quiet = true, samples = 3}
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
      assert(type(c.text) == "string" and c.finish_reason and type(c.correct) == "boolean")
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
local all = require("slmmux.tasks.math").load(MATH)
local function run_ids(name, extra)
  runner.run(recipe(extra), {overrides = {}, out = dir(name)})
  local set, list = {}, {}
  for _, l in ipairs(read_lines(dir(name) .. "/results.jsonl")) do
    set[l.id] = true
    list[#list + 1] = l.id
  end
  return set, list, read_json(dir(name) .. "/summary.json")
end
local plain, _, sv = run_ids("plain", {validation = {limit = 5}, limit = 10})
for i = 1, 5 do assert(not plain[all[i].id], "validation record " .. i .. " was evaluated") end
for i = 6, 15 do assert(plain[all[i].id], "record " .. i .. " should be evaluated") end
assert(sv.validation.problems == 5 and #sv.validation.models == 2)
assert(sv.models[1].validation_accuracy == sv.validation.models[1].accuracy.value)
local sh1 = run_ids("shuffle1", {validation = 5, limit = 10, shuffle = true, seed = 7})
local sh2 = run_ids("shuffle2", {validation = 5, limit = 10, shuffle = true, seed = 7})
local sh3 = run_ids("shuffle3", {validation = 5, limit = 10, shuffle = true, seed = 8})
local same, other = true, false
for id in pairs(sh1) do
  same = same and sh2[id]
  other = other or not sh3[id]
end
assert(same and other, "same seed, same problems; another seed, others")
for i = 1, 5 do assert(not sh1[all[i].id], "validation records stay out after shuffling") end

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
fails(function() runner.configure(recipe(), {overrides = {accuracy = "x"}}) end, "accuracy", "recipe")
fails(function() runner.configure(recipe(), {overrides = {samples = "0"}}) end, "samples")
fails(function() runner.configure(recipe({models = {}}), {}) end, "models")
fails(function() runner.configure(recipe({models = {"a", "a"}}), {}) end, "twice")
fails(function() runner.configure(recipe({samples = "3"}), {}) end, "samples")
fails(function() runner.configure(recipe(), {overrides = {backend = "gpu"}}) end, "backend")
fails(function() runner.run(recipe({policy = "bogus"}), {overrides = {}}) end,
  "bogus", "slm_mux", "majority", "single")
fails(function() runner.run(recipe({task = "nope"}), {overrides = {}}) end, "nope", "math")

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

os.execute("rm -rf -- " .. data.quote(root))
print("test_runner: ok")
