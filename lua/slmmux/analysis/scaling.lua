-- Test-time scaling (stage 3 of the SLM-MUX paper), offline: accuracy
-- against samples per model (k = 1..max_k, every model of the study) and
-- against the number of models (2..N, added in the order given, at k =
-- models_k), by Monte-Carlo subsampling of the stored samples: in each of
-- `trials` trials every model's k samples are a random k-subset of its S
-- stored ones, in sample order (mux.vote.panel; every rule sees the same
-- subsets in a trial). Per point: the mean accuracy over the trials, the
-- 2.5%-97.5% percentile interval of the trial accuracies (how much a
-- fresh set of k samples moves the result) and, beside it, the Wilson 95%
-- interval of the mean over the problems (how much other problems would).
--
-- Rules: SLM-MUX (Algorithm 1; ties to the run's validation accuracies,
-- else model order), Agent Forest (majority of every sample), the best
-- model's self-consistency (by validation accuracy, else the first
-- model), the best model's single sample (k = 1, flat), and any registered
-- policy named in `policies` that draws its samples with ctx.sample_all or
-- the task's own prompt (it is replayed in Lua over the same subsets:
-- slower; a policy with prompts of its own cannot be replayed).
--
-- Tokens and cost of a point, per problem: each sample counts the tokens
-- the store holds for it (its completion tokens and its share of its
-- request's prompt tokens), k times the model's mean; cost with the run's
-- prices ($ per million input and output tokens), when it has them.
local panel = require "slmmux.analysis.panel"
local stats = require "slmmux.analysis.stats"

local M = {}

M.DEFAULTS = {max_k = 9, trials = 200, models_k = 3, seed = 0}

local LABELS = {mux = "SLM-MUX", majority = "Agent Forest (majority)", sc = "self-consistency (best model)",
  single = "single best model (k = 1)"}
M.LABELS = LABELS

-- The best model among idx (panel indices) by accuracy, else the first.
local function best_of(idx, acc)
  local best = idx[1]
  for _, m in ipairs(idx) do if (acc[m] or -1) > (acc[best] or -1) then best = m end end
  return best
end

local function tokens_of(P, idx, k, prices)
  local n, tokens, cost, priced = #P.ids, 0, 0, prices ~= nil
  for _, m in ipairs(idx) do
    local price = prices and prices[P.models[m]]
    if not price then priced = false end
    for p = 1, n do
      local pt, ct = P.prompt_tokens[m][p] * k, P.completion_tokens[m][p] * k
      tokens = tokens + pt + ct
      if price then cost = cost + (pt * (price.input or 0) + ct * (price.output or 0)) / 1e6 end
    end
  end
  return tokens / n, priced and cost / n or nil
end

local function point(P, per_trial, extra)
  local n, acc = #P.ids, {}
  for t, right in ipairs(per_trial) do acc[t] = right / n end
  local mean, lo, hi = stats.percentile_interval(acc)
  local wlo, whi = stats.wilson(math.floor(mean * n + 0.5), n)
  local pt = {mean = mean, lo = lo, hi = hi, wilson_lo = wlo, wilson_hi = whi, trials = #per_trial}
  for k, v in pairs(extra) do pt[k] = v end
  return pt
end

local function replay(P, rule, idx, k, o, acc)
  local per_trial = panel.native(P):replay{rule = rule, models = idx, k = k, trials = o.trials, seed = o.seed,
    accuracy = acc}
  return per_trial
end

-- One rule at one point: {mean, lo, hi, wilson_lo, wilson_hi, tokens, cost, x}.
local function rule_point(P, rule, idx, k, o, acc, x)
  local models = idx
  if rule == "sc" or rule == "single" then models = {best_of(idx, acc)} end
  local kk = rule == "single" and 1 or k
  local per_trial = replay(P, rule == "single" and "sc" or rule, models, kk, o, acc)
  local tokens, cost = tokens_of(P, models, kk, o.prices)
  return point(P, per_trial, {tokens = tokens, cost = cost, x = x, k = kk, models = #models})
end

-- A registered policy replayed over the panel's subsets (see the header).
local function policy_point(P, name, policy, idx, k, o, acc, task)
  local native, right = panel.native(P), {}
  local names = {}
  for i, m in ipairs(idx) do names[i] = P.models[m] end
  local accuracy = {}
  for _, m in ipairs(idx) do if acc[m] and acc[m] >= 0 then accuracy[P.models[m]] = acc[m] end end
  for t = 1, o.trials do
    local r = 0
    for p = 1, #P.ids do
      local answers = {}
      for _, m in ipairs(idx) do
        local sub, row, reps, a = native:subset(t, m, p, k, o.seed), P.classes[m][p], P.reps[p], {}
        for i, s in ipairs(sub) do a[i] = row[s] > 0 and reps[row[s]] or false end
        answers[P.models[m]] = a
      end
      local decision = M.replay_decision(policy, name, task, names, answers, k, accuracy, o.cfg)
      local cls = decision and decision.answer and P.intern[p][decision.answer]
      if cls and P.right[p][cls] then r = r + 1 end
    end
    right[t] = r
  end
  local tokens, cost = tokens_of(P, idx, k, o.prices)
  return point(P, right, {tokens = tokens, cost = cost, x = k, k = k, models = #idx})
end

--- A policy's decision on given answers ({[model] = {answer or false...}},
-- each a class representative)
-- through a ctx that serves them: ctx.sample_all, ctx.sample and ctx.chat
-- with the task's prompt. Raises, naming the policy, when it asks for
-- anything else.
function M.replay_decision(policy, name, task, models, answers, k, accuracy, cfg)
  local function refuse(what)
    error(string.format("scaling: policy '%s' %s, which stored samples cannot answer", name, what), 0)
  end
  local function resp_of(model, n)
    local a = answers[model]
    if not a then refuse("asks model " .. tostring(model) .. " outside the study") end
    if (n or 1) > k then refuse("asks for more than k samples") end
    local choices = {}
    for i = 1, n or 1 do choices[i] = {answer = a[i] or nil, text = ""} end
    return {choices = choices}
  end
  local opts = {}
  for key, v in pairs(cfg or {}) do opts[key] = v end
  opts.samples, opts.early_exit, opts.partial = k, false, false
  -- answers arrive as their classes' representatives: "exact" groups them
  -- as the panel's classes do, without an equivalence test per pair
  local ctx = {task = setmetatable({equiv = "exact"}, {__index = task}), models = models, accuracy = accuracy,
    opts = opts, records = {}, failed_calls = {}}
  function ctx.answers(resp)
    local out = {}
    for i, ch in ipairs(resp.choices) do out[i] = ch.answer or false end
    return out
  end
  function ctx.sample_all(n, ms)
    local per_model = {}
    for i, m in ipairs(ms or models) do per_model[i] = {model = m, answers = ctx.answers(resp_of(m, n))} end
    return per_model
  end
  function ctx.sample(model, n)
    local calls = {}
    for i, ch in ipairs(resp_of(model, n).choices) do calls[i] = {answer = ch.answer} end
    return {model = model, calls = calls}
  end
  function ctx.chat(req)
    if req.messages ~= nil or req.place or req.agent or req.round or req.role then
      refuse("sends prompts of its own")
    end
    return resp_of(req.model, req.n)
  end
  function ctx.chat_all(reqs)
    local out = {}
    for i, r in ipairs(reqs) do out[i] = ctx.chat(r) end
    return out
  end
  function ctx.prompt() refuse("reads the prompt") end
  return policy.solve({}, ctx)
end

--- The study over panel P. o: max_k, trials, models_k, seed, prices,
-- policies = {{name =, policy =}} (registered ones to replay), cfg (the
-- run's settings, for them), task. acc: per panel model the tie-break
-- accuracy (< 0: unknown). Returns {k = {[rule] = {points}}, models =
-- {[rule] = {points}}, rules = {names in order}, ...}.
function M.run(P, o, acc)
  local opts = {}
  for key, v in pairs(M.DEFAULTS) do opts[key] = v end
  for key, v in pairs(o or {}) do opts[key] = v end
  local max_k = math.min(opts.max_k, P.samples)
  local all = {}
  for m = 1, #P.models do all[m] = m end
  local out = {k = {}, models = {}, rules = {"mux", "majority", "sc", "single"}, max_k = max_k,
    models_k = math.min(opts.models_k, P.samples), trials = opts.trials, seed = opts.seed,
    problems = #P.ids, names = P.models, priced = opts.prices ~= nil}
  for _, rule in ipairs({"mux", "majority", "sc", "single"}) do
    out.k[rule], out.models[rule] = {}, {}
    for k = 1, max_k do out.k[rule][k] = rule_point(P, rule, all, k, opts, acc, k) end
    for n = 2, #P.models do
      local idx = {}
      for m = 1, n do idx[m] = m end
      out.models[rule][#out.models[rule] + 1] = rule_point(P, rule, idx, out.models_k, opts, acc, n)
    end
  end
  for _, pol in ipairs(opts.policies or {}) do
    local key = "policy:" .. pol.name
    out.rules[#out.rules + 1], LABELS[key] = key, pol.name .. " (replayed)"
    out.k[key] = {}
    for k = 1, max_k do out.k[key][k] = policy_point(P, pol.name, pol.policy, all, k, opts, acc, opts.task) end
  end
  return out
end

return M
