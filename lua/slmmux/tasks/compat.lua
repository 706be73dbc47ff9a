-- compat = "reference": the answer extraction and scoring of the SLM-MUX
-- reference release (billwang485/SLM-MUX-ICLR, its package slm_mux:
-- extractors/ and benchmarks/), re-implemented rule by rule, so a run can reproduce the
-- reference pipeline's number on the same samples:
--   math   the FIRST \boxed{...} (brace-matched), normalised by the
--          reference's string rules (strip \left, dfrac -> frac, units ...),
--          correct when the normalised strings are equal;
--   gsm8k  the number after the last "####" (digits, optional "-" and
--          decimals: "1,000" reads as "1"), else the last number in the
--          text; commas and leading zeros dropped; string equality;
--   gpqa   six patterns in the reference's order ("answer: X", "## X ##", a
--          letter alone on a line, the last "(X)", the last " X", "Final
--          Answer: (X)"), the letter upper-cased; string equality.
-- The reference returns "" for no answer; here that is nil, as for every task.
-- Python counts characters where Lua counts bytes: the single-character
-- rules (a \frac or \sqrt argument without braces) take one UTF-8 character.
local M = {}

local UTF8_CHAR = utf8.charpattern

local function strip(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function replace(s, old, new)
  local out, at = {}, 1
  while true do
    local i, j = s:find(old, at, true)
    if not i then break end
    out[#out + 1] = s:sub(at, i - 1)
    out[#out + 1] = new
    at = j + 1
  end
  out[#out + 1] = s:sub(at)
  return table.concat(out)
end

-- Python's str.split(sep) (sep non-empty): every piece, empty ones included.
local function split(s, sep)
  local parts, at = {}, 1
  while true do
    local i, j = s:find(sep, at, true)
    if not i then break end
    parts[#parts + 1] = s:sub(at, i - 1)
    at = j + 1
  end
  parts[#parts + 1] = s:sub(at)
  return parts
end

local function first_char(s) return s:match("^" .. UTF8_CHAR) end

---------------------------------------------------------------------------
-- MATH

--- The content of the first \boxed{...} (braces matched), stripped; nil
-- when there is none or its braces never close.
function M.first_boxed(text)
  local start = text:find("\\boxed{", 1, true)
  if not start then return nil end
  local depth, i = 1, start + 7
  while i <= #text do
    local c = text:sub(i, i)
    if c == "{" then depth = depth + 1
    elseif c == "}" then
      depth = depth - 1
      if depth == 0 then return strip(text:sub(start + 7, i - 1)) end
    end
    i = i + 1
  end
  return nil
end

local function fix_sqrt(s)
  if not s:find("\\sqrt", 1, true) then return s end
  local parts = split(s, "\\sqrt")
  local out = {parts[1]}
  for k = 2, #parts do
    local piece = parts[k]
    local a = first_char(piece)
    if piece:sub(1, 1) ~= "{" and a then
      out[#out + 1] = "\\sqrt{" .. a .. "}" .. piece:sub(#a + 1)
    else
      -- The reference raises on "\sqrt" at the very end; kept as it is here.
      out[#out + 1] = "\\sqrt" .. piece
    end
  end
  return table.concat(out)
end

local function fix_fracs(s)
  local parts = split(s, "\\frac")
  local out = {parts[1]}
  for k = 2, #parts do
    local sub = parts[k]
    out[#out + 1] = "\\frac"
    local a = first_char(sub)
    local b = a and first_char(sub:sub(#a + 1))
    if sub:sub(1, 1) == "{" or not b then
      out[#out + 1] = sub
    elseif b ~= "{" then
      out[#out + 1] = "{" .. a .. "}{" .. b .. "}" .. sub:sub(#a + #b + 1)
    else
      out[#out + 1] = "{" .. a .. "}" .. sub:sub(#a + 1)
    end
  end
  return table.concat(out)
end

-- Python's str(int(s)) for a plain decimal integer ("+007" -> "7"), else nil.
local function int_text(s)
  local sign, digits = s:match("^([+-]?)(%d+)$")
  if not digits then return nil end
  digits = digits:gsub("^0+", "")
  if digits == "" then return "0" end
  return (sign == "-" and "-" or "") .. digits
end

local function fix_a_slash_b(s)
  local parts = split(s, "/")
  if #parts ~= 2 then return s end
  local a, b = int_text(parts[1]), int_text(parts[2])
  if not a or not b then return s end
  return "\\frac{" .. a .. "}{" .. b .. "}"
end

local function strip_string(s)
  for _, r in ipairs({{"\n", ""}, {"\\!", ""}, {"\\\\", "\\"}, {"tfrac", "frac"},
      {"dfrac", "frac"}, {"\\left", ""}, {"\\right", ""}, {"^{\\circ}", ""}, {"^\\circ", ""},
      {"\\$", ""}}) do
    s = replace(s, r[1], r[2])
  end
  if s:find("\\text{", 1, true) then s = split(s, "\\text{")[1] end   -- units on the right
  s = replace(replace(s, "\\%", ""), "%", "")
  s = replace(replace(s, " .", " 0."), "{.", "{0.")
  if s:sub(1, 1) == "." then s = "0" .. s end
  if s:find("=", 1, true) then
    local parts = split(s, "=")
    if #parts == 2 and utf8.len(parts[1]) and utf8.len(parts[1]) <= 2 then s = parts[2] end
  end
  s = fix_sqrt(s)
  s = replace(s, " ", "")
  s = fix_fracs(s)
  if s == "0.5" then s = "\\frac{1}{2}" end
  return fix_a_slash_b(s)
end

--- The reference's normalize_answer: stripped, an outer \text{...}
-- unwrapped (on one line, as Python's "." does not cross a newline), then
-- its string rules.
function M.math_normalize(answer)
  if answer == nil then return "" end
  answer = strip(answer)
  local inner = answer:match("^\\text{(.+)}$")
  if inner and not inner:find("\n", 1, true) then answer = strip(inner) end
  return strip_string(answer)
end

function M.math_extract(text)
  if text == nil then return nil end
  local raw = M.first_boxed(text)
  if raw == nil then return nil end
  local a = M.math_normalize(raw)
  return a ~= "" and a or nil
end

function M.math_score(answer, reference)
  return answer ~= nil and M.math_normalize(answer) == M.math_normalize(reference)
end

---------------------------------------------------------------------------
-- GSM8K

-- "-?\d+(?:\.\d+)?" at position i of s: the match, or nil.
local function number_at(s, i)
  local num = s:match("^%-?%d+", i)
  if not num then return nil end
  local frac = s:match("^%.%d+", i + #num)
  return num .. (frac or "")
end

-- Every non-overlapping match of "-?\d+(?:\.\d+)?", left to right.
local function numbers(s)
  local list, i = {}, 1
  while i <= #s do
    local at = s:find("%-?%d", i)
    if not at then break end
    local num = number_at(s, at)
    if num then
      list[#list + 1] = num
      i = at + #num
    else
      i = at + 1
    end
  end
  return list
end

function M.gsm8k_normalize(ans)
  if ans == nil then return "" end
  ans = strip(ans)
  if ans:sub(1, 4) == "####" then ans = strip(ans:sub(5)) end
  ans = ans:gsub(",", "")
  if ans:match("^0+$") then return "0" end
  return (ans:gsub("^0+", ""))
end

function M.gsm8k_extract(text)
  if text == nil then return nil end
  local last, at = nil, text:find("####", 1, true)
  while at do   -- every start of "####", overlapping ones too, as a regex search tries them
    local num = number_at(text, text:match("^####%s*()", at))
    if num then last = num end
    at = text:find("####", at + 1, true)
  end
  if not last then
    local all = numbers(text)
    last = all[#all]
  end
  if last == nil then return nil end
  local a = M.gsm8k_normalize(last)
  return a ~= "" and a or nil
end

function M.gsm8k_score(answer, reference)
  return answer ~= nil and M.gsm8k_normalize(answer) == M.gsm8k_normalize(reference)
end

---------------------------------------------------------------------------
-- GPQA

local function letter_ok(valid, l) return l ~= nil and valid[l:upper()] end

-- The six patterns of the reference's extract_answer_gpqa, in its order.
local function gpqa_patterns(text, valid)
  local lower = text:lower()
  local at = 1
  while true do   -- 1. "answer", non-alphanumerics, A-D (any case): the first match
    local i, j = lower:find("answer", at, true)
    if not i then break end
    local l = lower:match("^[^%w]*([a-d])", j + 1)
    if l then
      if letter_ok(valid, l) then return l:upper() end
      break
    end
    at = i + 1
  end
  local l = text:match("##%s*([A-D])%s*##")   -- 2.
  if l then
    if letter_ok(valid, l) then return l end
  end
  for line in (text .. "\n"):gmatch("([^\r\n]*)[\r\n]") do   -- 3.
    local s = strip(line):upper()
    if #s == 1 and valid[s] then return s end
  end
  local last
  for x in text:gmatch("%(([A-D])%)") do if valid[x] then last = x end end   -- 4.
  if last then return last end
  for x in text:gmatch("%s([A-D])") do if valid[x] then last = x end end   -- 5.
  if last then return last end
  l = text:match("Final Answer: %(([A-Z])%)")   -- 6.
  if l and valid[l] then return l end
  return nil
end

--- The letter of a reply; choices are the record's choice strings, whose
-- first characters are the valid letters.
function M.gpqa_extract(text, choices)
  if text == nil then return nil end
  local valid = {}
  for _, c in ipairs(choices) do valid[c:sub(1, 1):upper()] = true end
  return gpqa_patterns(text, valid)
end

function M.gpqa_score(answer, reference)
  return answer ~= nil and strip(answer):upper() == strip(reference):upper()
end

return M
