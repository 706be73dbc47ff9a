-- Mixture-of-Agents (Wang et al., 2024, "Mixture-of-Agents Enhances Large
-- Language Model Capabilities", arXiv:2406.04692). Paper defaults: 3
-- layers, every proposer in every layer, the aggregator in the last
-- (MoA-Lite: 2 layers, -s layers=2); temperature 0.7 and 2048 tokens.
-- Layer 1: every proposer (the run's models) answers the task's prompt.
-- Layers 2..L-1: every proposer answers again with the previous layer's
-- responses shown; layer L: the aggregator (-s aggregator=MODEL, default
-- the first model) does, and its answer is the decision.
-- The responses are shown with the paper's Aggregate-and-Synthesize prompt
-- (its Table 1, worded as in the authors' release): appended to the task's
-- system message, or as a system message of its own when there is none.
local errors = require "slmmux.errors"

local M = {name = "moa", settings = "layers=3 (MoA-Lite: 2) aggregator=<the first model>",
  label = "Mixture-of-Agents",
  description = "Mixture-of-Agents (Wang et al. 2024): layers of proposers, "
    .. "an aggregator synthesizes the last layer's responses"}

local DEFAULTS = {layers = 3}

local AGGREGATE = "You have been provided with a set of responses from various open-source models "
  .. "to the latest user query. Your task is to synthesize these responses into a single, "
  .. "high-quality response. It is crucial to critically evaluate the information provided in these "
  .. "responses, recognizing that some of it may be biased or incorrect. Your response should not "
  .. "simply replicate the given answers but should offer a refined, accurate, and comprehensive reply "
  .. "to the instruction. Ensure your response is well-structured, coherent, and adheres to the "
  .. "highest standards of accuracy and reliability.\n\nResponses from models:"

local function with_references(messages, responses)
  local system = {AGGREGATE}
  for i, text in ipairs(responses) do system[#system + 1] = string.format("\n%d. %s", i, text) end
  system = table.concat(system)
  if messages[1] and messages[1].role == "system" then
    messages[1].content = messages[1].content .. "\n\n" .. system
  else
    table.insert(messages, 1, {role = "system", content = system})
  end
  return messages
end

-- One layer: each of `models` answers, shown `responses` (none in layer 1);
-- the texts of those that answered (partial = true leaves out the others).
local function layer(ctx, models, responses, l, role)
  local reqs = {}
  for i, m in ipairs(models) do
    local messages = ctx.prompt()
    if #responses > 0 then messages = with_references(messages, responses) end
    reqs[i] = {model = m, messages = messages, agent = i, round = l, role = role}
  end
  local resps, err = ctx.chat_all(reqs)
  if not resps then return nil, err end
  local texts = {}
  for _, r in ipairs(resps) do if r then texts[#texts + 1] = r.choices[1].text or "" end end
  return texts, resps
end

function M.solve(_, ctx)
  local layers = ctx.opts.layers or DEFAULTS.layers
  if layers < 1 then errors.usage("moa: layers must be at least 1") end
  local aggregator = ctx.opts.aggregator or ctx.models[1]
  local responses, err = {}, nil
  for l = 1, layers - 1 do
    responses, err = layer(ctx, ctx.models, responses, l, "proposer")
    if not responses then return nil, err end
  end
  local final, resps = layer(ctx, {aggregator}, responses, layers, "aggregator")
  if not final then return nil, resps end
  local answer = resps[1].choices[1].answer
  -- confidence: the share of the responses it was shown that give its answer
  local agree = 0
  for _, text in ipairs(responses) do
    if answer and ctx.task.extract(text, ctx.problem) == answer then agree = agree + 1 end
  end
  return {answer = answer, model = aggregator, confidence = #responses > 0 and agree / #responses or 0,
    reason = string.format("aggregated %d proposers over %d layers", #ctx.models, layers)}
end

return M
