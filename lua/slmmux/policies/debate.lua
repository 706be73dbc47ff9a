-- LLM-Debate (Du et al., 2023, "Improving Factuality and Reasoning in
-- Language Models through Multiagent Debate", arXiv:2305.14325).
-- Paper defaults: 3 agents, 2 rounds, the final answer the majority of the
-- agents' last answers. Settings: agents = N (default 3), rounds = R
-- (default 2); agent a is model ((a-1) mod #models) + 1, so one model
-- gives N copies of itself and N models one agent each.
-- Round 1: every agent answers the task's own prompt. Round r > 1: each
-- agent's conversation goes on with the other agents' previous answers, in
-- the wording of the paper's GSM8K script ("math problem" made "problem",
-- and the closing asks for the answer in the form the problem asks for).
local errors = require "slmmux.errors"
local vote = require "slmmux.vote"

local M = {name = "debate", settings = "agents=3 rounds=2",
  label = "LLM-Debate",
  description = "LLM-Debate (Du et al. 2023): agents answer, see each other's answers, "
    .. "answer again; majority of the last round"}

local DEFAULTS = {agents = 3, rounds = 2}

local function rebuttal(others, question)
  local parts = {"These are the solutions to the problem from other agents: "}
  for _, text in ipairs(others) do parts[#parts + 1] = "\n\n One agent solution: ```" .. text .. "```" end
  parts[#parts + 1] = "\n\n Using the solutions from other agents as additional information, can you "
    .. "provide your answer to the problem? \n The original problem is " .. question .. ". Your final "
    .. "answer should be in the form the problem asks for, at the end of your response."
  return {role = "user", content = table.concat(parts)}
end

function M.solve(problem, ctx)
  local n, rounds = ctx.opts.agents or DEFAULTS.agents, ctx.opts.rounds or DEFAULTS.rounds
  if n < 1 or rounds < 1 then errors.usage("debate: agents and rounds must be at least 1") end
  local agents, said, answers = {}, {}, {}
  for a = 1, n do agents[a] = {model = ctx.models[(a - 1) % #ctx.models + 1], messages = ctx.prompt()} end
  for round = 1, rounds do
    local reqs = {}
    for a, agent in ipairs(agents) do
      if round > 1 and said[a] then
        local others = {}
        for b = 1, n do if b ~= a and said[b] then others[#others + 1] = said[b] end end
        agent.messages[#agent.messages + 1] = rebuttal(others, problem.text)
      end
      reqs[a] = {model = agent.model, messages = agent.messages, agent = a, round = round}
    end
    local resps, err = ctx.chat_all(reqs)
    if not resps then return nil, err end
    for a, resp in ipairs(resps) do
      said[a], answers[a] = nil, false   -- an agent that failed (partial = true) drops out
      if resp then
        said[a] = resp.choices[1].text or ""
        answers[a] = ctx.answers(resp)[1]
        agents[a].messages[#agents[a].messages + 1] = {role = "assistant", content = said[a]}
      end
    end
  end
  local answer, count, first = vote.majority(answers, {equiv = ctx.task.equiv})
  if answer == nil then return {reason = "no answer extracted", confidence = 0} end
  return {answer = answer, model = agents[first].model, confidence = count / n,
    reason = string.format("majority of %d agents after %d rounds", n, rounds)}
end

return M
