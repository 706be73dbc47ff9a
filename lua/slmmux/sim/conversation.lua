-- How the simulator reads a conversation: which of its own earlier samples
-- of the problem the messages quote (the answers other agents showed, the
-- model's own earlier answer), whether the last message asks for a verdict
-- on a proposed solution (True/False) or for a stated confidence (a
-- message that spells "Confidence:").
--
-- The simulator knows a sample by its text: every text it writes for a
-- problem is remembered with its answer (or verdict), so a sample quoted
-- whole in a later message -- as LLM-Debate, Mixture-of-Agents and
-- Multi-Agent Verification quote them -- is recognized; a paraphrase is not.
local hash = require "slmmux.sim.hash"

local M = {}

--- The memory of one simulator: remember(problem, text, info), and the
-- quotes of a message content, in the order they appear.
function M.memory()
  local by_problem = {}
  local mem = {}

  function mem.remember(q, text, info)
    local known = by_problem[q]
    if not known then
      known = {list = {}, by_text = {}}
      by_problem[q] = known
    end
    if text and not known.by_text[text] then
      known.by_text[text] = info
      known.list[#known.list + 1] = text
    end
  end

  -- {info...} of the remembered texts quoted in content, by position; a
  -- text inside a longer quoted one (an answer "1" inside "12") is not a quote.
  function mem.quotes(q, content)
    local known = by_problem[q]
    if not known or content == "" then return {} end
    local found = {}
    for _, text in ipairs(known.list) do
      local at = content:find(text, 1, true)
      while at do
        found[#found + 1] = {at = at, stop = at + #text - 1, info = known.by_text[text]}
        at = content:find(text, at + 1, true)
      end
    end
    table.sort(found, function(a, b)
      if a.at ~= b.at then return a.at < b.at end
      return a.stop > b.stop
    end)
    local out, reach = {}, 0
    for _, f in ipairs(found) do
      if f.at > reach then
        out[#out + 1] = f.info
        reach = f.stop
      end
    end
    return out
  end

  return mem
end

local function content_of(m)
  if type(m.content) == "string" then return m.content end
  if type(m.content) == "table" then   -- content parts
    local parts = {}
    for _, p in ipairs(m.content) do parts[#parts + 1] = type(p) == "table" and p.text or nil end
    return table.concat(parts, "\n")
  end
  return ""
end

--- What the messages show for problem q: {shown = {answers of others, in
-- order}, own = the model's last answer, own_verdict, candidate = the
-- answer of the solution to judge, verdict = the prefix to answer with
-- (verdict asked), confidence = stated confidence asked, key = a hash of
-- the conversation, nil for a plain question that shows nothing}.
function M.read(mem, q, messages)
  local conv = {shown = {}}
  local last = messages[#messages] or {}
  local all = {}
  for i, m in ipairs(messages) do
    local content = content_of(m)
    all[i] = (m.role or "") .. "\0" .. content
    for _, info in ipairs(mem.quotes(q, content)) do
      if m.role == "assistant" then
        conv.own, conv.own_verdict = info.answer, info.verdict
      elseif info.verdict == nil then
        conv.shown[#conv.shown + 1] = info.answer or false
        if conv.candidate == nil then conv.candidate = info.answer or false end
      end
    end
  end
  local ask = last.role ~= "assistant" and content_of(last) or ""
  if ask:find("True", 1, true) and ask:find("False", 1, true) and conv.candidate ~= nil then
    -- the verdict's own spelling, e.g. 'FINAL VERIFICATION ANSWER:True'
    conv.verdict = ask:match("'([^'\n]-)True'") or ask:match("\"([^\"\n]-)True\"") or ""
  end
  for _, m in ipairs(messages) do
    if m.role ~= "assistant" and content_of(m):find("[Cc]onfidence:") then
      conv.confidence = true
    end
  end
  if #conv.shown > 0 or conv.own ~= nil or conv.own_verdict ~= nil or conv.verdict then
    conv.key = string.format("%016x", hash.hash(table.concat(all, "\1")))
  end
  return conv
end

return M
