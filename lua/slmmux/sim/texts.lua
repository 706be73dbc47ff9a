-- What a simulated sample says: an opening, reasoning without numbers (so
-- that only the answer extracts), then a closing line stating the answer;
-- and how the j-th wrong answer to a problem is made. For each problem, in
-- this order:
--   1. the task's own answer_text(answer) and near_miss(problem, j), if it
--      has both;
--   2. the simulator's file for the built-in task of that name
--      (sim/tasks/NAME.lua), if the task extracts its statement;
--   3. for a task the simulator has never seen: the first standard phrasing
--      ("Answer: X", "\boxed{X}", "#### X", "The answer is X", X alone) in
--      which the task's extract reads the reference back, and wrong answers
--      made by perturbing the reference until the task's score rejects what
--      extract reads from them.
local math_answers = require "slmmux.sim.tasks.math"

local M = {}

local OPENINGS = {
  "Let me work through this step by step.",
  "We need to find the answer carefully.",
  "First, let us restate what is given.",
  "Let's break the problem into parts.",
}

local BODY = "(simulated reasoning, without numbers, so that only the answer extracts)"
M.BODY_PATTERN = BODY:gsub("%p", "%%%0")   -- where a stated confidence goes

-- The text of sample i and its finish reason; no closing line is a sample
-- cut off before its answer.
local function compose(i, closing)
  local open = OPENINGS[i % #OPENINGS + 1]
  if closing == nil then return open .. "\n" .. BODY .. "\nSo far we have", "length" end
  return open .. "\n" .. BODY .. "\n" .. closing, "stop"
end

local BUILT_IN = {math = true, gsm8k = true, gpqa = true, humaneval = true}

-- Prefix and suffix of each standard phrasing, in the order they are tried.
local PHRASINGS = {{"Answer: ", ""}, {"\\boxed{", "}"}, {"#### ", ""}, {"The answer is ", ""},
  {"", ""}}

local function shift_letter(ref, j)
  local at = {}
  for i in ref:gmatch("()%a") do at[#at + 1] = i end
  if #at == 0 then return nil end
  local i = at[(j - 1) % #at + 1]
  local step = ((j - 1) // #at) % 25 + 1
  local c = ref:byte(i)
  local base = c >= 97 and 97 or 65
  return ref:sub(1, i - 1) .. string.char((c - base + step) % 26 + base) .. ref:sub(i + 1)
end

-- The j-th change of a reference nobody told the simulator how to get wrong:
-- a digit, else a letter (never only its case), else a suffix.
local function perturb(ref, j)
  return math_answers.change_digit(ref, j) or shift_letter(ref, j) or (ref .. " " .. j)
end

local function reference(task, p)
  return tostring(task.reference and task.reference(p) or p.reference)
end

-- A writer whose answers are stated by hooks {answer_text, near_miss}.
local function hooked(task, hooks)
  return {
    text = function(answer, _, i)
      return compose(i, answer ~= nil and "Therefore the final answer is "
        .. hooks.answer_text(answer) or nil)
    end,
    wrong = hooks.near_miss,
    rejects = function(answer, p) return not task.score(answer, p) end,
  }
end

local function phrased(task, prefix, suffix)
  local w = {wrong = function(p, j) return perturb(reference(task, p), j) end}
  function w.text(answer, _, i)
    return compose(i, answer ~= nil and prefix .. answer .. suffix or nil)
  end
  function w.rejects(answer, p)
    local got = task.extract((w.text(answer, p, 0)), p)
    return got ~= nil and not task.score(got, p)
  end
  return w
end

local function tried()
  local list = {}
  for i, ph in ipairs(PHRASINGS) do list[i] = ph[1] .. "X" .. ph[2] end
  return table.concat(list, ", ")
end

local function reads_back(task, p, text, ref)
  local got = task.extract(text, p)
  return got ~= nil and (got == ref or task.score(got, p))
end

local function writer_for(task, p)
  if type(task.answer_text) == "function" and type(task.near_miss) == "function" then
    return hooked(task, task)
  end
  local ref = reference(task, p)
  if BUILT_IN[task.name] then
    local w = hooked(task, require("slmmux.sim.tasks." .. task.name))
    if task.extract((w.text(ref, p, 0)), p) ~= nil then return w end
  end
  for _, ph in ipairs(PHRASINGS) do
    local w = phrased(task, ph[1], ph[2])
    if reads_back(task, p, (w.text(ref, p, 0)), ref) then return w end
  end
  error(string.format("sim: task '%s' reads its reference back from none of the phrasings "
    .. "%s (problem %s); give the task answer_text(answer) and near_miss(problem, j)",
    tostring(task.name), tried(), tostring(p.id)), 0)
end

--- The texts of `task`'s simulated samples: {reference(p), text(answer,
-- p, i) -> text, finish_reason (answer nil: cut off), wrong(p, j) -> a
-- candidate wrong answer, rejects(answer, p) -> is it really wrong}.
function M.for_task(task)
  local writers = setmetatable({}, {__mode = "k"})   -- problem -> its writer
  local function writer(p)
    local w = writers[p]
    if not w then
      w = writer_for(task, p)
      writers[p] = w
    end
    return w
  end
  return {
    reference = function(p) return reference(task, p) end,
    text = function(answer, p, i) return writer(p).text(answer, p, i) end,
    wrong = function(p, j) return writer(p).wrong(p, j) end,
    rejects = function(answer, p) return writer(p).rejects(answer, p) end,
  }
end

return M
