-- The aspect-verifier prompts of Multi-Agent Verification (Lifshitz et
-- al., 2025, arXiv:2502.20379), worded as the authors released them with
-- the paper (their typos, "Think out load", kept: the prompts are what was
-- measured); only the indentation their source code adds inside the
-- prompt text is left out. Used by policies/mav.lua.
local M = {}

M.SYMBOL = "FINAL VERIFICATION ANSWER:"

-- The follow-up a verifier that reasoned first is asked, for a bare verdict.
M.CLARIFY = "To clarify, based on the above analysis, reply with ONLY '" .. M.SYMBOL
  .. "True' or ONLY '" .. M.SYMBOL .. "False'. Do not include any other text in your response."

-- The verifier set the paper reports for MATH (its aspects).
M.MATH_ASPECTS = {"units_steps", "general_summarize", "general_edge", "general_mistakes",
  "general_domain"}

local SYSTEM = {
  math = "You are a critical verifier tasked with evaluating mathematical problem-solving. "
    .. "You will be presented with a question and a proposed solution. "
    .. "Your job is to carefully go over and analyze the solution. Follow the instructions.",
  code = "You are a critical verifier tasked with evaluating code implementations. "
    .. "You will be presented with a prompt and a code implementation. "
    .. "Your job is to carefully go over and analyze the code. Follow the instructions.",
  choice = "You are a critical verifier tasked with evaluating multiple-choice question-answering. "
    .. "You will be presented with a question, the multiple-choice options, and a proposed solution. "
    .. "Your job is to carefully go over and analyze the solution. Follow the instructions.",
}

local S = M.SYMBOL
local ASPECTS = {
  math_steps = "Go over each step in the proposed solution and check whether it is mathematically "
    .. "correct. Think out load. If you reach a step that is incorrect, stop and reply '" .. S .. "False'."
    .. "If you get to the end of all the steps and each step was correct, reply '" .. S .. "True'.",
  logic_steps = "Go over each step in the proposed solution and check whether it is logically sound. "
    .. "Think out load. If you reach a step that is not logically sound, stop and reply '" .. S
    .. "False'. If you get to the end of all the steps and each step was logically sound, reply '"
    .. S .. "True'.",
  facts_steps = "Go over each step in the proposed solution and check whether the facts presented are "
    .. "correct. Think out load. If you reach a step with incorrect facts, stop and reply '" .. S
    .. "False'. If you get to the end of all the steps and each step had correct facts, reply '"
    .. S .. "True'.",
  units_steps = "Check if the units are handled correctly in each step of the solution. Think out "
    .. "loud. If you find any issues with the units, stop and reply '" .. S .. "False'. If all units "
    .. "are handled correctly, reply '" .. S .. "True'.",
  general_direct = "Is this solution correct for the given question? Respond with ONLY '" .. S
    .. "True' or ONLY '" .. S .. "False'. Do not provide any explanation or additional text.",
  general_summarize = "Summarize the solution in your own words, explore anything you think may be "
    .. "incorrect. Think out load. If you find something that's incorrect, stop and reply '" .. S
    .. "False'. If you've gone over the solution and everything seems correct, reply '" .. S .. "True'.",
  general_diff = "Explain the solution in a different way than it was presented. Try to find any "
    .. "flaws in the solution. Think out load. If you find something that's incorrect, stop and reply '"
    .. S .. "False'. If you've gone over the solution and everything seems correct, reply '" .. S
    .. "True'.",
  general_edge = "Check if the solution handles edge cases and boundary conditions, test extreme "
    .. "values or special cases. Think out loud. If any boundary conditions or edge cases fail, stop "
    .. "and reply '" .. S .. "False'. If all boundary conditions and edge cases are handled correctly, "
    .. "reply '" .. S .. "True'.",
  general_mistakes = "Check if the solution has any common mistakes, calculation errors, or "
    .. "misconceptions that typically found in this type of problem. Think out loud. If you find any "
    .. "common mistakes, stop and reply '" .. S .. "False'. If no common mistakes are found, reply '"
    .. S .. "True'.",
  general_domain = "Check if the solution correctly applies relevant domain-knowledge, established "
    .. "theories, and standard practices for this type of problem. Think out loud. If any domain "
    .. "knowledge is misapplied or violated, stop and reply '" .. S .. "False'. If all domain-specific "
    .. "knowledge is correctly applied, reply '" .. S .. "True'.",
}

local function names()
  local list = {}
  for k in pairs(ASPECTS) do list[#list + 1] = k end
  table.sort(list)
  return table.concat(list, ", ")
end

--- The verifier prompt of `aspect` for a task (by name: gpqa is
-- multiple-choice, humaneval code, anything else mathematics).
function M.prompt(task_name, aspect, question, solution)
  local instructions = ASPECTS[aspect]
  if not instructions then
    error(string.format("mav: unknown aspect '%s'; known: %s", tostring(aspect), names()), 0)
  end
  local system = task_name == "gpqa" and SYSTEM.choice or task_name == "humaneval" and SYSTEM.code
    or SYSTEM.math
  return system .. "\n\nQUESTION:\n" .. question .. "\n\nPROPOSED SOLUTION:\n" .. solution
    .. "\n\nINSTRUCTIONS: \n" .. instructions
end

--- Whether the aspect asks for the verdict alone (no follow-up needed).
function M.is_direct(aspect) return aspect:find("direct", 1, true) ~= nil end

--- The verifier's approval: after the last FINAL VERIFICATION ANSWER:,
-- "true" or "false" (asterisks of bold text dropped, case ignored), else
-- the first word holding one of them; anything else is no approval.
function M.approval(text)
  local lower, sym = text:lower(), S:lower()
  local last
  local from = 1
  while true do
    local i, j = lower:find(sym, from, true)
    if not i then break end
    last, from = j, i + 1
  end
  if not last then return false end
  local answer = lower:sub(last + 1):gsub("%*", ""):match("^%s*(.-)%s*$")
  if answer == "true" or answer == "true." then return true end
  if answer == "false" or answer == "false." then return false end
  local word = answer:match("^(%S+)") or ""
  return word:find("true", 1, true) ~= nil
end

return M
