-- SLM-MUX with adaptive sampling (policies/slm_mux_adaptive.lua) answers
-- exactly as Algorithm 1 on all k samples, on random problems (2-4 models, k = 1..7, few distinct answers so
-- that ties and unanimity are common, missing answers, tied and unknown
-- accuracies), through a ctx that serves each model's samples in order
-- and counts what was asked; and it asks for fewer samples overall.
local mux = require "slmmux"
local adaptive = require "slmmux.policies.slm_mux_adaptive"
local vote = mux.vote

local pass, fail = 0, 0
local function check(cond, msg)
  if cond then pass = pass + 1 else fail = fail + 1; print("FAIL " .. msg) end
end

local state = 4242
local function rand(n)
  state = (state * 1103515245 + 12345) % 2147483648
  return state % n + 1
end

-- A ctx over fixed samples: samples[model] = {answer or false, ...}.
local function fake_ctx(models, samples, k, accuracy)
  local asked = {}
  local ctx = {models = models, accuracy = accuracy, opts = {samples = k}, task = {equiv = "exact"}}
  function ctx.base_prompt() return {{role = "user", content = "q"}} end
  function ctx.answers(resp)
    local out = {}
    for i, ch in ipairs(resp.choices) do out[i] = ch.answer or false end
    return out
  end
  function ctx.chat_all(reqs)
    local out = {}
    for i, r in ipairs(reqs) do
      assert(r.n <= k, "asked beyond k")
      asked[r.model] = math.max(asked[r.model] or 0, r.n)
      local choices = {}
      for s = 1, r.n do choices[s] = {answer = samples[r.model][s] or nil} end
      out[i] = {choices = choices}
    end
    return out
  end
  return ctx, asked
end

local used, full, cases = 0, 0, 0
for case = 1, 6000 do
  local n, k = 1 + rand(3), rand(7)
  local alphabet = rand(4)
  local models, samples, accuracy = {}, {}, {}
  for i = 1, n do
    local name = "m" .. i
    models[i] = name
    local row = {}
    for s = 1, k do
      local x = rand(alphabet + 1)
      row[s] = x <= alphabet and ("a" .. x) or false
    end
    samples[name] = row
    local r = rand(4)
    accuracy[name] = r == 1 and nil or (r == 2 and 0.5 or rand(3) / 4)
  end
  local per_model = {}
  for i, m in ipairs(models) do per_model[i] = {model = m, answers = samples[m], n = k} end
  local want = vote.mux(per_model, {accuracy = accuracy, equiv = "exact"})
  local ctx, asked = fake_ctx(models, samples, k, accuracy)
  local got = assert(adaptive.solve({}, ctx))
  local same = got.answer == want.answer
  check(same, string.format("case %d (n=%d k=%d): adaptive %s/%s, full-k %s/%s", case, n, k,
    tostring(got.model), tostring(got.answer), tostring(want.model), tostring(want.answer)))
  local total = 0
  for _, m in ipairs(models) do total = total + (asked[m] or 0) end
  check(total == got.samples_used, "samples_used counts what was asked")
  used, full, cases = used + total, full + n * k, cases + 1
end
check(used < full, string.format("adaptive sampling asked %d of %d samples", used, full))
print(string.format("adaptive: %d of %d samples over %d random problems (%.1f%% saved)", used, full, cases,
  100 * (full - used) / full))

-- a settled case by hand: k = 3, m1 says a, a (2 of 2), m2 says b, c: m2
-- can reach 2 of 3 at most, a tie m1 wins on accuracy: settled after 2 each
local d, open, settled = adaptive.settle({{model = "m1", answers = {"a", "a"}}, {model = "m2", answers = {"b", "c"}}},
  3, {m1 = 0.8, m2 = 0.6}, "exact")
check(settled and d.model == "m1" and d.answer == "a", "2 of 2 against 1 of 2 with the better accuracy is settled")
-- m2 could still answer b twice, tie and win on accuracy: not settled, both asked
d, open, settled = adaptive.settle({{model = "m1", answers = {"a", "a"}}, {model = "m2", answers = {"b", "c"}}},
  3, {m1 = 0.6, m2 = 0.8}, "exact")
check(not settled and #open == 2, "a tie the other model would win is not settled")
-- both models say a, a: either may end up selected, but only with a (any
-- other answer reaches 1 vote of 3): settled on a after 2 samples each
d, open, settled = adaptive.settle({{model = "m1", answers = {"a", "a"}}, {model = "m2", answers = {"a", "a"}}},
  3, {m1 = 0.6, m2 = 0.8}, "exact")
check(settled and d.answer == "a", "agreement settles the answer whoever is selected")

print(string.format("%d passed, %d failed", pass, fail))
if fail > 0 then os.exit(1) end
