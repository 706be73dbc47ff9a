-- The simulator in conversations: answers shown by other agents pull with
-- the profile's conformity (toward a wrong answer as readily as a right
-- one), a model keeps its own earlier answer, verdicts on proposed
-- solutions favour right ones and repeat when asked again, logprobs and a
-- stated confidence follow how likely the answer is; all deterministic
-- per (model, conversation, sample, place, seed), and the task's own
-- prompt at no place is answered as it always was.
local sim = require "slmmux.sim"
local gsm8k = require "slmmux.tasks.gsm8k"

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name .. (detail and (" (" .. tostring(detail) .. ")") or ""))
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local PROFILES = {
  wrong = {accuracy = 0, consistency = 1, latency_ms = 0, tokens = 50},   -- one favourite wrong answer
  sheep = {accuracy = 0.9, consistency = 0.5, conformity = 1, latency_ms = 0, tokens = 50},
  rock = {accuracy = 0.9, consistency = 0.5, conformity = 0, latency_ms = 0, tokens = 50},
  half = {accuracy = 0.9, consistency = 0, conformity = 0.5, latency_ms = 0, tokens = 50},
  judge = {accuracy = 0.8, consistency = 0.5, latency_ms = 0, tokens = 50},
  mid = {accuracy = 0.5, consistency = 0.5, latency_ms = 0, tokens = 50},
  steady = {accuracy = 0.5, consistency = 0.9, conformity = 0, latency_ms = 0, tokens = 50},
  fickle = {accuracy = 0.5, consistency = 0, conformity = 0, latency_ms = 0, tokens = 50},
}

local function problems(n)
  local ps = {}
  for i = 1, n do ps[i] = {id = "q" .. i, reference = tostring(100 + i), text = "What is it " .. i .. "?"} end
  return ps
end

local function ask(s, model, p, messages, extra)
  local req = {model = model, n = 1, max_tokens = 1000, messages = messages}
  for k, v in pairs(extra or {}) do req[k] = v end
  return assert(s:chat(req, p))
end

local function question(p) return {{role = "user", content = p.text}} end

-- others' answers, quoted the way a debate quotes them
local function shown(p, texts)
  local m = question(p)
  m[#m + 1] = {role = "assistant", content = "(my first try)"}
  local parts = {}
  for _, t in ipairs(texts) do parts[#parts + 1] = "One agent solution: ```" .. t .. "```" end
  m[#m + 1] = {role = "user", content = table.concat(parts, "\n\n") .. "\nCan you give an updated answer?"}
  return m
end

-- 1. Conformity pulls toward the answers shown, even a wrong one.
local function adoption(model, n)
  local s = sim.new(gsm8k, {seed = 2, profiles = PROFILES})
  local adopted, right_alone, asked = 0, 0, 0
  for _, p in ipairs(problems(n)) do
    local wrong, target = {}, nil
    for a = 1, 3 do wrong[a] = ask(s, "wrong", p, question(p), {place = "agent=" .. a}).choices[1].text end
    target = gsm8k.extract(wrong[1], p)
    local all_said = target and gsm8k.extract(wrong[2], p) and gsm8k.extract(wrong[3], p)
    if all_said then   -- a few wrong samples are cut off before their answer
      asked = asked + 1
      local mine = ask(s, model, p, shown(p, wrong), {place = "agent=4;round=2"}).choices[1].text
      if gsm8k.extract(mine, p) == target then adopted = adopted + 1 end
    end
    if gsm8k.score(gsm8k.extract(ask(s, model, p, question(p)).choices[1].text, p), p) then
      right_alone = right_alone + 1
    end
  end
  return adopted / asked, right_alone / n
end
local sheep, sheep_alone = adoption("sheep", 200)
local rock = adoption("rock", 200)
local half = adoption("half", 400)
check("a conformist model takes the wrong answer all agents showed", sheep == 1, sheep)
check("... though alone it is mostly right", sheep_alone > 0.75, sheep_alone)
check("a model without conformity does not", rock < 0.05, rock)
check("conformity 0.5 takes it about half the time", half > 0.4 and half < 0.6, half)

-- 2. A model keeps its own earlier answer (with probability consistency).
local function kept(model)
  local s = sim.new(gsm8k, {seed = 4, profiles = PROFILES})
  local same, n = 0, 300
  for _, p in ipairs(problems(n)) do
    local first = ask(s, model, p, question(p), {place = "agent=1;round=1"}).choices[1].text
    local m = question(p)
    m[2] = {role = "assistant", content = first}
    m[3] = {role = "user", content = "Can you double check that your answer is correct?"}
    local again = ask(s, model, p, m, {place = "agent=1;round=2"}).choices[1].text
    if gsm8k.extract(again, p) == gsm8k.extract(first, p) then same = same + 1 end
  end
  return same / n
end
local steady, fickle = kept("steady"), kept("fickle")
check("a consistent model keeps its own answer, an inconsistent one answers afresh",
  steady > 0.9 and steady > fickle + 0.2, string.format("%.2f vs %.2f", steady, fickle))

-- 3. Verdicts: right solutions approved more often, the spelling of the
-- verdict taken from the request, and the verdict repeated when asked again.
do
  local s = sim.new(gsm8k, {seed = 5, profiles = PROFILES})
  local yes = {right = 0, wrong = 0}
  local total = {right = 0, wrong = 0}
  local repeated, spelled = 0, 0
  for _, p in ipairs(problems(300)) do
    local cand = ask(s, "mid", p, question(p)).choices[1].text
    local kind = gsm8k.score(gsm8k.extract(cand, p), p) and "right" or "wrong"
    local prompt = {{role = "user", content = "QUESTION:\n" .. p.text .. "\n\nPROPOSED SOLUTION:\n" .. cand
      .. "\n\nIf it is wrong reply 'VERDICT:False', else reply 'VERDICT:True'."}}
    local v = ask(s, "judge", p, prompt, {place = "role=v"}).choices[1].text
    total[kind] = total[kind] + 1
    if v:find("VERDICT:True", 1, true) then yes[kind] = yes[kind] + 1 end
    if v:find("VERDICT:True", 1, true) or v:find("VERDICT:False", 1, true) then spelled = spelled + 1 end
    local follow = {prompt[1], {role = "assistant", content = v},
      {role = "user", content = "Reply with ONLY 'VERDICT:True' or ONLY 'VERDICT:False'."}}
    local v2 = ask(s, "judge", p, follow, {place = "role=v;round=2"}).choices[1].text
    if (v2:find("True", 1, true) ~= nil) == (v:find("True", 1, true) ~= nil) then repeated = repeated + 1 end
  end
  local r, w = yes.right / total.right, yes.wrong / total.wrong
  check("right solutions are approved more often than wrong ones", r > 0.75 and w < 0.25,
    string.format("%.2f vs %.2f", r, w))
  check("the verdict is spelled as the request spells it", spelled == 300, spelled)
  check("asked again, a verifier repeats its verdict", repeated == 300, repeated)
end

-- 4. Logprobs and stated confidence follow how likely the answer is.
do
  local s = sim.new(gsm8k, {seed = 6, profiles = PROFILES})
  local lp = {right = {0, 0}, wrong = {0, 0}}
  local conf = {right = {0, 0}, wrong = {0, 0}}
  local spelled, same_answer = true, true
  for _, p in ipairs(problems(300)) do
    local m = question(p)
    m[1].content = m[1].content .. "\nState 'Confidence: N%'."
    local ch = ask(s, "mid", p, m, {logprobs = true, top_logprobs = 2}).choices[1]
    local plain = ask(s, "mid", p, question(p)).choices[1]
    local a = gsm8k.extract(ch.text, p)
    same_answer = same_answer and a == gsm8k.extract(plain.text, p)
    if a then
      local joined = {}
      for i, t in ipairs(ch.logprobs) do joined[i] = t.token end
      spelled = spelled and table.concat(joined) == ch.text and #ch.logprobs[1].top_logprobs == 2
      local kind = gsm8k.score(a, p) and "right" or "wrong"
      local i = ch.text:find(a, 1, true)
      local sum, n, at = 0, 0, 1
      for _, t in ipairs(ch.logprobs) do
        if i and at + #t.token - 1 >= i and at <= i + #a - 1 then sum, n = sum + t.logprob, n + 1 end
        at = at + #t.token
      end
      if n > 0 then lp[kind][1], lp[kind][2] = lp[kind][1] + sum / n, lp[kind][2] + 1 end
      local c = tonumber(ch.text:match("Confidence: (%d+)%%"))
      if c then conf[kind][1], conf[kind][2] = conf[kind][1] + c, conf[kind][2] + 1 end
    end
  end
  check("logprob tokens spell the text", spelled)
  check("asking for a confidence changes no answer", same_answer)
  local lr, lw = lp.right[1] / lp.right[2], lp.wrong[1] / lp.wrong[2]
  check("the answer's mean log-prob is higher when it is right", lr > lw + 0.5, string.format("%.2f vs %.2f", lr, lw))
  check("every answered sample states a confidence",
    conf.right[2] == lp.right[2] and conf.wrong[2] == lp.wrong[2])
  local cr, cw = conf.right[1] / conf.right[2], conf.wrong[1] / conf.wrong[2]
  check("the stated confidence is higher when right", cr > cw + 10, string.format("%.0f vs %.0f", cr, cw))
end

-- 5. Determinism, places and the plain prompt.
do
  local p = problems(1)[1]
  local a = sim.new(gsm8k, {seed = 9, profiles = PROFILES})
  local b = sim.new(gsm8k, {seed = 9, profiles = PROFILES})
  local ta = ask(a, "mid", p, question(p), {n = 5}).choices
  local tb = ask(b, "mid", p, question(p), {n = 5, place = "agent=1"}).choices
  local tb2 = ask(b, "mid", p, question(p), {n = 5}).choices
  local differs = false
  for i = 1, 5 do differs = differs or ta[i].text ~= tb[i].text end
  check("a place gives other samples", differs)
  check("the plain prompt at no place is answered as always", ta[3].text == tb2[3].text)
  local pa = ask(a, "mid", p, question(p), {place = "agent=1", n = 5}).choices
  check("the same place, the same samples, whatever came before", pa[4].text == tb[4].text)
  local convo = shown(p, {ta[1].text, ta[2].text})
  check("a conversation is answered the same by two simulators",
    ask(a, "sheep", p, convo, {place = "agent=2;round=2"}).choices[1].text
      == ask(b, "sheep", p, convo, {place = "agent=2;round=2"}).choices[1].text)
end

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
