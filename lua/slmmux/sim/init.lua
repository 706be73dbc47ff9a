-- The built-in simulator: stands in for mux.chat when no endpoint is
-- configured (or with -s backend=sim), so the whole pipeline runs offline.
-- Its parts: profiles.lua (the simulated models), texts.lua (what a sample
-- says, for any task), tasks/ (the answers of the built-in tasks), hash.lua.
--
-- Each (model, question) is first "known" or not (probability = the
-- profile's accuracy; shared across models with probability CORRELATION,
-- since hard questions are hard for every model). A known question is
-- answered right with probability 1 - NOISE*(1-acc), an unknown one with
-- NOISE*acc; the mean stays exactly acc, and a model is consistent where it
-- is competent -- the property SLM-MUX uses. Everything is a deterministic
-- function of (model, question id, sample index, seed), never of call order.
--
-- NOISE and CORRELATION were chosen so that self-consistency gains a few
-- points and SLM-MUX over two complementary models gains more; the size of
-- that gain is a property of this simulator, not a prediction for real models.
local hash = require "slmmux.sim.hash"
local profiles = require "slmmux.sim.profiles"
local texts = require "slmmux.sim.texts"

local mux = require "slmmux"

local M = {}

M.hash, M.uniform = hash.hash, hash.uniform
M.profiles, M.profile = profiles.profiles, profiles.profile

local uniform = hash.uniform

local NOISE = 0.1
local CORRELATION = 0.75
local TRUNCATED = 0.05   -- share of wrong samples that end without an answer

-- Is sample i of question q right? See the header for the model.
local function is_right(model, q, i, seed, acc)
  local shared = uniform(seed, "shared?", model, q) < CORRELATION
  local u = shared and uniform(seed, "question", q) or uniform(seed, "known", model, q)
  local p = u < acc and 1 - NOISE * (1 - acc) or NOISE * acc
  return uniform(seed, "right", model, q, i) < p
end

local function wrong_answer(self, problem, model, i, consistency)
  local q, seed = problem.id, self.seed
  local j
  if uniform(seed, "repeat", model, q, i) < consistency then
    j = 1 + hash.hash(seed, "favourite", model, q) % 3    -- models may share a mistake
  else
    j = 4 + hash.hash(seed, "scatter", model, q, i) % 40
  end
  for try = 0, 9 do
    local a = self.texts.wrong(problem, j + try * 7)
    if a ~= nil and self.texts.rejects(a, problem) then return a end
  end
  return nil
end

-- One sample: text, finish_reason, completion tokens.
local function sample(self, req, problem, prof, i)
  local model, q, seed = req.model, problem.id, self.seed
  local tokens = math.floor(prof.tokens * (0.6 + 0.8 * uniform(seed, "tok", model, q, i)))
  local answer
  if tokens > (req.max_tokens or math.huge) then
    tokens = req.max_tokens
  elseif is_right(model, q, i, seed, profiles.accuracy(prof, self.task)) then
    answer = self.texts.reference(problem)
  elseif uniform(seed, "truncated", model, q, i) >= TRUNCATED then
    answer = wrong_answer(self, problem, model, i, prof.consistency or 0.4)
  end
  local text, finish = self.texts.text(answer, problem, i)
  return text, finish, tokens
end

local function prompt_tokens(messages)
  local chars = 0
  for _, m in ipairs(messages or {}) do chars = chars + #(m.content or "") end
  return math.ceil(chars / 4)
end

local function failure(req, q, seed, prof)
  local rate = prof.error_rate or 0
  if rate > 0 and uniform(seed, "error", req.model, q) < rate then
    local msg = "HTTP 503 from simulated endpoint for " .. req.model
    return msg, {kind = "http", status = 503, attempts = 1, message = msg}
  end
end

--- The mux.chat of the simulator, for one problem: returns resp, or
-- nil, errmsg, errinfo. Samples already served in this run cost no tokens
-- and no time, as with the host's sample store.
function M.chat(self, req, problem)
  local prof = profiles.profile(req.model, self.profiles)
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
    resp.latency_ms = math.floor(prof.latency_ms * (0.5 + uniform(self.seed, "lat", req.model, q, n)))
    mux.sleep(resp.latency_ms / 1000)
  end
  return resp
end

--- A simulator for one run of `task` (any task: see texts.lua). opts: seed
-- (default 0), profiles ({[model] = profile}, beside the built-in ones).
function M.new(task, opts)
  if type(task) ~= "table" or type(task.extract) ~= "function" or type(task.score) ~= "function" then
    error("sim.new: the task needs extract and score functions to be simulated", 2)
  end
  opts = opts or {}
  return setmetatable({task = task, texts = texts.for_task(task), seed = opts.seed or 0,
    profiles = opts.profiles, served = {}}, {__index = M})
end

return M
