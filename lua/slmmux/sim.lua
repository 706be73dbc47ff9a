-- The built-in simulator: stands in for mux.chat when no endpoint is
-- configured (or with -s backend=sim), so the whole pipeline runs offline.
--
-- A simulated model is a profile:
--   accuracy     probability that a sample is right, over the whole dataset
--                (a number, or a table per task name: {math =, gsm8k =, gpqa =})
--   consistency  probability that a wrong sample repeats the model's favourite
--                wrong answer to that question instead of a scattered one
--   latency_ms   mean latency of one request (scaled down so demos take seconds)
--   tokens       mean completion tokens of one sample
--   error_rate   share of (model, question) pairs whose request fails (default 0)
--
-- Each (model, question) is first "known" or not (probability = accuracy;
-- shared across models with probability CORRELATION, since hard questions are
-- hard for every model). A known question is answered right with probability
-- 1 - NOISE*(1-acc), an unknown one with NOISE*acc; the mean stays exactly acc,
-- and a model is consistent where it is competent -- the property SLM-MUX uses.
-- Everything is a deterministic function of (model, question id, sample index,
-- seed) through a hash, never of call order.
--
-- The profiles below are simulated, not measured: accuracies are rounded,
-- rough public figures for these models (model cards, leaderboards), not the
-- SLM-MUX paper's measurements; they exist for demos and tests. NOISE and
-- CORRELATION were chosen so that self-consistency gains a few points and
-- SLM-MUX over two complementary models gains more; the size of that gain is
-- a property of this simulator, not a prediction for real models.
local M = {}

local mux = require "slmmux"

local NOISE = 0.1
local CORRELATION = 0.75
local TRUNCATED = 0.05   -- share of wrong samples that end without an answer

M.profiles = {
  ["sim/mistral-small-24b"] = {accuracy = {math = 0.70, gsm8k = 0.92, gpqa = 0.45},
    consistency = 0.45, latency_ms = 700, tokens = 520},
  ["sim/qwen2.5-7b"] = {accuracy = {math = 0.74, gsm8k = 0.89, gpqa = 0.33},
    consistency = 0.40, latency_ms = 450, tokens = 560},
  ["sim/llama-3.1-8b"] = {accuracy = {math = 0.50, gsm8k = 0.84, gpqa = 0.28},
    consistency = 0.35, latency_ms = 450, tokens = 480},
  ["sim/gemma-2-27b"] = {accuracy = {math = 0.45, gsm8k = 0.90, gpqa = 0.38},
    consistency = 0.45, latency_ms = 650, tokens = 420},
  ["sim/llama-3.2-3b"] = {accuracy = {math = 0.46, gsm8k = 0.77, gpqa = 0.27},
    consistency = 0.30, latency_ms = 300, tokens = 500},
  ["sim/mistral-7b"] = {accuracy = {math = 0.15, gsm8k = 0.55, gpqa = 0.28},
    consistency = 0.30, latency_ms = 400, tokens = 400},
  ["sim/qwen2.5-72b"] = {accuracy = {math = 0.82, gsm8k = 0.95, gpqa = 0.49},
    consistency = 0.55, latency_ms = 1200, tokens = 600},
}

-- Real model ids (Together, Hugging Face, Ollama spellings) map to a profile.
local ALIASES = {
  {"mistral%-small", "sim/mistral-small-24b"},
  {"qwen2%.5%-72b", "sim/qwen2.5-72b"},
  {"qwen2%.5%-7b", "sim/qwen2.5-7b"},
  {"llama%-3%.1%-8b", "sim/llama-3.1-8b"},
  {"gemma%-2%-27b", "sim/gemma-2-27b"},
  {"llama%-3%.2%-3b", "sim/llama-3.2-3b"},
  {"mistral%-7b", "sim/mistral-7b"},
}

--- 64-bit hash of its arguments (FNV-1a, then the splitmix64 finalizer).
function M.hash(...)
  local h = 0xcbf29ce484222325
  for i = 1, select("#", ...) do
    local s = tostring((select(i, ...)))
    for j = 1, #s do h = (h ~ s:byte(j)) * 0x100000001b3 end
    h = (h ~ 0xff) * 0x100000001b3
  end
  h = (h ~ (h >> 30)) * 0xbf58476d1ce4e5b9
  h = (h ~ (h >> 27)) * 0x94d049bb133111eb
  return h ~ (h >> 31)
end

--- Uniform float in [0, 1) determined by the arguments.
function M.uniform(...)
  return (M.hash(...) >> 11) * 2.0 ^ -53
end

local function default_profile(model)
  local u = function(tag) return M.uniform("profile", tag, model) end
  return {accuracy = 0.3 + 0.5 * u("acc"), consistency = 0.3 + 0.3 * u("cons"),
    latency_ms = 300 + 500 * u("lat"), tokens = 300 + 400 * u("tok")}
end

--- The profile simulating `model`: an exact profile name, a known model id,
-- or a default derived from a hash of the name. extra = {[name] = profile}.
function M.profile(model, extra)
  if extra and extra[model] then return extra[model], model end
  if M.profiles[model] then return M.profiles[model], model end
  local name = model:lower()
  for _, a in ipairs(ALIASES) do
    if name:find(a[1]) then return M.profiles[a[2]], a[2] end
  end
  return default_profile(model), "default"
end

local function accuracy_for(profile, task)
  local acc = profile.accuracy
  if type(acc) == "table" then acc = acc[task.name] or acc.default or 0.5 end
  return acc
end

-- Is sample i of question q right? See the header for the model.
local function is_right(model, q, i, seed, acc)
  local shared = M.uniform(seed, "shared?", model, q) < CORRELATION
  local u = shared and M.uniform(seed, "question", q) or M.uniform(seed, "known", model, q)
  local p = u < acc and 1 - NOISE * (1 - acc) or NOISE * acc
  return M.uniform(seed, "right", model, q, i) < p
end

local function wrong_answer(task, problem, model, i, seed, consistency)
  local q = problem.id
  local j
  if M.uniform(seed, "repeat", model, q, i) < consistency then
    j = 1 + M.hash(seed, "favourite", model, q) % 3    -- models may share a mistake
  else
    j = 4 + M.hash(seed, "scatter", model, q, i) % 40
  end
  for try = 0, 9 do
    local a = task.near_miss(problem, j + try * 7)
    if not task.score(a, problem) then return a end
  end
  return nil
end

local OPENINGS = {
  "Let me work through this step by step.",
  "We need to find the answer carefully.",
  "First, let us restate what is given.",
  "Let's break the problem into parts.",
}

local function sample_text(task, answer, i)
  local open = OPENINGS[i % #OPENINGS + 1]
  local body = "(simulated reasoning, without numbers, so that only the answer extracts)"
  if answer == nil then return open .. "\n" .. body .. "\nSo far we have", "length" end
  return open .. "\n" .. body .. "\nTherefore the final answer is "
    .. task.answer_text(answer), "stop"
end

-- One sample: text, finish_reason, completion tokens.
local function sample(self, req, problem, prof, i)
  local model, q, seed = req.model, problem.id, self.seed
  local tokens = math.floor(prof.tokens * (0.6 + 0.8 * M.uniform(seed, "tok", model, q, i)))
  local answer
  if tokens > (req.max_tokens or math.huge) then
    tokens = req.max_tokens
  elseif is_right(model, q, i, seed, accuracy_for(prof, self.task)) then
    answer = problem.reference
  elseif M.uniform(seed, "truncated", model, q, i) >= TRUNCATED then
    answer = wrong_answer(self.task, problem, model, i, seed, prof.consistency or 0.4)
  end
  local text, finish = sample_text(self.task, answer, i)
  return text, finish, tokens
end

local function prompt_tokens(messages)
  local chars = 0
  for _, m in ipairs(messages or {}) do chars = chars + #(m.content or "") end
  return math.ceil(chars / 4)
end

local function failure(req, q, seed, prof)
  local rate = prof.error_rate or 0
  if rate > 0 and M.uniform(seed, "error", req.model, q) < rate then
    local msg = "HTTP 503 from simulated endpoint for " .. req.model
    return msg, {kind = "http", status = 503, attempts = 1, message = msg}
  end
end

--- The mux.chat of the simulator, for one problem: returns resp, or
-- nil, errmsg, errinfo. Samples already served in this run cost no tokens
-- and no time, as with the host's sample store.
function M.chat(self, req, problem)
  local prof = M.profile(req.model, self.profiles)
  local n, q = req.n or 1, problem.id
  local msg, info = failure(req, q, self.seed, prof)
  if msg then
    mux.sleep(prof.latency_ms / 1000 * 0.2)
    return nil, msg, info
  end
  local resp = {choices = {}, model = req.model, attempts = 1,
    usage = {prompt_tokens = 0, completion_tokens = 0}}
  local fresh = false
  for i = 0, n - 1 do
    local text, finish, tokens = sample(self, req, problem, prof, i)
    resp.choices[i + 1] = {text = text, finish_reason = finish}
    local key = table.concat({req.model, q, i, req.max_tokens or ""}, "\0")
    if not self.served[key] then
      self.served[key], fresh = true, true
      resp.usage.completion_tokens = resp.usage.completion_tokens + tokens
    end
  end
  resp.latency_ms = 0
  if fresh then
    resp.usage.prompt_tokens = prompt_tokens(req.messages)
    resp.latency_ms = math.floor(prof.latency_ms * (0.5 + M.uniform(self.seed, "lat", req.model, q, n)))
    mux.sleep(resp.latency_ms / 1000)
  end
  return resp
end

--- A simulator for one run. opts: seed (default 0), profiles ({[model] = profile}).
function M.new(task, opts)
  if type(task) ~= "table" or type(task.near_miss) ~= "function"
    or type(task.answer_text) ~= "function" then
    error("sim.new: the task needs answer_text and near_miss to be simulated", 2)
  end
  opts = opts or {}
  return setmetatable({task = task, seed = opts.seed or 0, profiles = opts.profiles,
    served = {}}, {__index = M})
end

return M
