-- The built-in simulator: stands in for mux.chat when no endpoint is
-- configured (or with -s backend=sim), so the whole pipeline runs offline.
-- Its parts: profiles.lua (the simulated models), texts.lua (what a sample
-- says, for any task), conversation.lua (what a conversation shows),
-- logprobs.lua, tasks/ (the answers of the built-in tasks), hash.lua.
--
-- Each (model, question) is first "known" or not (probability = the
-- profile's accuracy; shared across models with probability CORRELATION,
-- since hard questions are hard for every model). A known question is
-- answered right with probability 1 - NOISE*(1-acc), an unknown one with
-- NOISE*acc; the mean stays exactly acc, and a model is consistent where it
-- is competent -- the property SLM-MUX uses.
--
-- Conversations. The question is the runner's problem; the simulator reads
-- what else the messages show (conversation.lua): other agents' answers
-- (samples of its own, quoted), the model's own earlier answer, a request
-- for a verdict or a stated confidence. Shown answers pull: with
-- probability conformity x share (the profile's conformity, the share of
-- the shown answers, the model's own included, that agree with the most
-- common one) the model gives that most common answer, right or wrong;
-- else it keeps its own earlier answer with probability consistency; else
-- it answers afresh. So a debate of weak, conformist models converges, on
-- a wrong answer as readily as on a right one, as the SLM-MUX paper
-- reports of small models. A verdict (True/False on a proposed solution)
-- approves a right solution with probability 0.5 + 0.45 acc and a wrong
-- one with 0.5 (1 - acc), and repeats itself when asked again.
--
-- Every draw is a deterministic function of (model, question id, sample
-- index, seed) -- and of the call's place and the conversation, when the
-- call has a place or the conversation shows anything: the task's own
-- prompt at no place gives the samples it always gave. Never of call order.
-- Logprobs (logprobs.lua) and a stated confidence follow the probability
-- of the answer given; the confidence line ("Confidence: N%", before the
-- closing line) is 50% + 50% of that probability plus up to the profile's
-- overconfidence (default 0.2), at most 99%.
--
-- NOISE and CORRELATION were chosen so that self-consistency gains a few
-- points and SLM-MUX over two complementary models gains more; the size of
-- that gain is a property of this simulator, not a prediction for real models.
local conversation = require "slmmux.sim.conversation"
local hash = require "slmmux.sim.hash"
local logprobs = require "slmmux.sim.logprobs"
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
local CONFORMITY = 0.5   -- a profile without its own
local OVERCONFIDENCE = 0.2
local SCATTER = 40       -- how many scattered wrong answers there are

-- The chance that sample i of question q is right (see the header).
local function p_right(model, q, seed, acc)
  local shared = uniform(seed, "shared?", model, q) < CORRELATION
  local u = shared and uniform(seed, "question", q) or uniform(seed, "known", model, q)
  return u < acc and 1 - NOISE * (1 - acc) or NOISE * acc
end

-- A wrong answer and how likely the model was to give it.
local function wrong_answer(self, problem, model, i, consistency, p)
  local q, seed = problem.id, self.seed
  local j, share
  if uniform(seed, "repeat", model, q, i) < consistency then
    j = 1 + hash.hash(seed, "favourite", model, q) % 3    -- models may share a mistake
    share = consistency
  else
    j = 4 + hash.hash(seed, "scatter", model, q, i) % SCATTER
    share = (1 - consistency) / SCATTER
  end
  for try = 0, 9 do
    local a = self.texts.wrong(problem, j + try * 7)
    if a ~= nil and self.texts.rejects(a, problem) then
      return a, (1 - p) * (1 - TRUNCATED) * share
    end
  end
  return nil, 0
end

-- A fresh answer to the question (nil: cut off) and its probability.
local function fresh(self, problem, model, prof, i)
  local q, seed = problem.id, self.seed
  local p = p_right(model, q, seed, profiles.accuracy(prof, self.task))
  if uniform(seed, "right", model, q, i) < p then return self.texts.reference(problem), p end
  if uniform(seed, "truncated", model, q, i) < TRUNCATED then return nil, 0 end
  return wrong_answer(self, problem, model, i, prof.consistency or 0.4, p)
end

-- The answer a conversation leads to (see the header), and its probability.
local function answer_in(self, problem, model, prof, i, conv)
  local shown = {}
  for k, a in ipairs(conv.shown) do shown[k] = a end
  if conv.own ~= nil then shown[#shown + 1] = conv.own end
  local q, seed = problem.id, self.seed
  local pull = 0
  if #shown > 0 then
    local top = mux.vote.count(shown, {equiv = self.task.equiv})[1]
    if top then
      pull = (prof.conformity or CONFORMITY) * top.count / #shown
      if uniform(seed, "conform", model, q, i) < pull then return top.answer, pull end
    end
  end
  local keep = prof.consistency or 0.4
  if conv.own and uniform(seed, "keep", model, q, i) < keep then
    return conv.own, pull + (1 - pull) * keep
  end
  local a, p = fresh(self, problem, model, prof, i)
  return a, (1 - pull) * p
end

-- A verdict on the conversation's candidate: true, false.
local function verdict_in(self, problem, model, prof, i, conv)
  if conv.own_verdict ~= nil then return conv.own_verdict end
  local acc = profiles.accuracy(prof, self.task)
  local right = conv.candidate and self.task.score(conv.candidate, problem)
  local approve = right and 0.5 + 0.45 * acc or 0.5 * (1 - acc)
  return uniform(self.seed, "verdict", model, problem.id, i) < approve
end

local VERDICT_TEXT = "Let me check the proposed solution step by step.\n"
  .. "(simulated verification, without numbers)\n"

local function confidence_line(self, model, q, i, p, prof)
  local c = 0.5 + 0.5 * p + (prof.overconfidence or OVERCONFIDENCE) * uniform(self.seed, "conf", model, q, i)
  return string.format("Confidence: %d%%", math.floor(100 * math.min(c, 0.99) + 0.5))
end

-- One sample: {text, finish_reason, tokens, answer, p}.
local function sample(self, req, problem, prof, i, conv)
  local model, q, seed = req.model, problem.id, self.seed
  local tokens = math.floor(prof.tokens * (0.6 + 0.8 * uniform(seed, "tok", model, q, i)))
  if tokens > (req.max_tokens or math.huge) then
    local text, finish = self.texts.text(nil, problem, i)
    return {text = text, finish = finish, tokens = req.max_tokens}
  end
  if conv.verdict then
    local ok = verdict_in(self, problem, model, prof, i, conv)
    return {text = VERDICT_TEXT .. conv.verdict .. (ok and "True" or "False"), finish = "stop",
      tokens = tokens, verdict = ok, p = 0.8}
  end
  local answer, p
  if conv.key then answer, p = answer_in(self, problem, model, prof, i, conv)
  else answer, p = fresh(self, problem, model, prof, i) end
  local text, finish = self.texts.text(answer, problem, type(i) == "number" and i or hash.hash(i) % 4)
  if conv.confidence and answer ~= nil then
    local line = confidence_line(self, model, q, i, p, prof)
    text = text:gsub(texts.BODY_PATTERN, function(body) return body .. "\n" .. line end, 1)
  end
  return {text = text, finish = finish, tokens = tokens, answer = answer, p = p}
end

local function prompt_tokens(messages)
  local chars = 0
  for _, m in ipairs(messages or {}) do
    chars = chars + (type(m.content) == "string" and #m.content or 0)
  end
  return math.ceil(chars / 4)
end

local function failure(req, q, seed, prof)
  local rate = prof.error_rate or 0
  if rate > 0 and uniform(seed, "error", req.model, q) < rate then
    local msg = "HTTP 503 from simulated endpoint for " .. req.model
    return msg, {kind = "http", status = 503, attempts = 1, message = msg}
  end
end

-- The draw index of sample i: i itself for the task's plain prompt at no
-- place, so that SLM-MUX's samples are what they always were.
local function draw_index(req, conv, i)
  if not req.place and not conv.key then return i end
  return table.concat({req.place or "", conv.key or "", i}, "#")
end

--- The mux.chat of the simulator, for one problem: returns resp, or
-- nil, errmsg, errinfo. Samples already served in this run cost no tokens
-- and no time and are marked cached, as with the host's sample store.
function M.chat(self, req, problem)
  local prof = profiles.profile(req.model, self.profiles)
  local n, q = req.n or 1, problem.id
  local msg, info = failure(req, q, self.seed, prof)
  if msg then
    mux.sleep(prof.latency_ms / 1000 * 0.2)
    return nil, msg, info
  end
  local conv = conversation.read(self.memory, q, req.messages or {})
  local resp = {choices = {}, model = req.model, attempts = 1, requests = 0, cached = 0,
    usage = {prompt_tokens = 0, completion_tokens = 0}}
  local fresh_prompt = true
  for i = 0, n - 1 do
    local idx = draw_index(req, conv, i)
    local s = sample(self, req, problem, prof, idx, conv)
    self.memory.remember(q, s.text, {answer = s.answer, verdict = s.verdict})
    local ch = {text = s.text, finish_reason = s.finish, cached = true, prompt_tokens = 0,
      completion_tokens = 0, seed = req.seed and req.seed + i or nil}
    if req.logprobs then
      ch.logprobs = logprobs.of(s.text, s.answer, s.p, req.top_logprobs or 0,
        function(tag, j) return uniform(self.seed, tag, req.model, q, idx, j) end)
    end
    local key = table.concat({req.model, q, tostring(idx), req.max_tokens or ""}, "\0")
    if not self.served[key] then
      self.served[key] = true
      ch.cached, ch.completion_tokens = false, s.tokens
      if fresh_prompt then ch.prompt_tokens, fresh_prompt = prompt_tokens(req.messages), false end
    else
      resp.cached = resp.cached + 1
    end
    resp.usage.prompt_tokens = resp.usage.prompt_tokens + ch.prompt_tokens
    resp.usage.completion_tokens = resp.usage.completion_tokens + ch.completion_tokens
    resp.choices[i + 1] = ch
  end
  resp.latency_ms = 0
  if not fresh_prompt then
    resp.requests = 1
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
    profiles = opts.profiles, served = {}, memory = conversation.memory()}, {__index = M})
end

return M
