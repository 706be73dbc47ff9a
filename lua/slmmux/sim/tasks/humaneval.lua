-- How a simulated model states a HumanEval answer (the program in a
-- ```python block), and its j-th wrong program: the canonical body, changed
-- a little (off by one, a flipped comparison, a wrong return value...).
local M = {}

local function replace(s, i, j, new) return s:sub(1, i - 1) .. new .. s:sub(j + 1) end

local COMPARISONS = {[" < "] = " <= ", [" <= "] = " < ", [" > "] = " >= ",
  [" >= "] = " > ", [" == "] = " != ", [" != "] = " == "}

-- The first of `words` in s (plain), as start, end, word.
local function first_of(s, words)
  local best_i, best_j, best_w
  for w in pairs(words) do
    local i, j = s:find(w, 1, true)
    if i and (not best_i or i < best_i) then best_i, best_j, best_w = i, j, w end
  end
  return best_i, best_j, best_w
end

local MUTATIONS = {
  function(b)   -- off by one: the first small integer literal
    for i, num, j in b:gmatch("()(%d+)()") do
      local before, after = b:sub(i - 1, i - 1), b:sub(j, j)
      if #num < 9 and not before:match("[%w_.]") and not after:match("[%w_.]") then
        return replace(b, i, j - 1, tostring(tonumber(num) + 1))
      end
    end
  end,
  function(b)   -- a comparison changed (< for <=, == for !=)
    local i, j, w = first_of(b, COMPARISONS)
    return i and replace(b, i, j, COMPARISONS[w])
  end,
  function(b)   -- the last return gives a wrong value
    local lines = {}
    for l in (b .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    for n = #lines, 1, -1 do
      local pad, expr = lines[n]:match("^(%s*)return%s+(.-)%s*$")
      if expr then
        lines[n] = pad .. "return " .. (expr == "None" and "0" or "None")
        return table.concat(lines, "\n")
      end
    end
  end,
  function(b)   -- True for False
    local i, j, w = first_of(b, {["True"] = 1, ["False"] = 1})
    return i and replace(b, i, j, w == "True" and "False" or "True")
  end,
  function(b)   -- and for or
    local i, j, w = first_of(b, {[" and "] = 1, [" or "] = 1})
    return i and replace(b, i, j, w == " and " and " or " or " and ")
  end,
  function(b)   -- + for -
    local i, j, w = first_of(b, {[" + "] = 1, [" - "] = 1})
    return i and replace(b, i, j, w == " + " and " - " or " + ")
  end,
}

local function mutants(p)
  local body, list, seen = p.canonical_solution, {}, {}
  for _, mutate in ipairs(MUTATIONS) do
    local m = mutate(body)
    if m and m ~= body and not seen[m] then
      seen[m] = true
      list[#list + 1] = p.prompt .. m
    end
  end
  local pad = body:match("([ \t]*)%S")
  list[#list + 1] = p.prompt .. ((pad and pad ~= "") and pad or "    ") .. "return None\n"
  return list
end

-- The mutants of each problem (table), made once.
local cache = setmetatable({}, {__mode = "k"})

function M.answer_text(answer) return "\n\n```python\n" .. answer .. "\n```\n" end

function M.near_miss(p, j)
  local list = cache[p]
  if not list then
    list = mutants(p)
    cache[p] = list
  end
  return list[(j - 1) % #list + 1]
end

return M
