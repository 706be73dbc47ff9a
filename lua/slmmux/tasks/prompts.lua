-- The prompt templates of the built-in tasks, by style (`prompts = STYLE`):
--
--   reference  the runtime messages of the SLM-MUX reference release
--              (billwang485/SLM-MUX-ICLR at commit
--              7c632c60be88d28472f4e7f72adbbe27de8c9fda), byte for byte: each
--              Python literal of the function that builds the messages,
--              evaluated to the string sent on the wire. Origins below are
--              path:line in that repository's Python package.
--   slmmux     the wording slmmux used before it shipped the reference's.
--
-- A template is filled by literal replacement of the tokens {problem} and
-- {choices}, in one pass, never by brace processing: every other brace is
-- text. The reference's MATH user message really ends in \boxed{{...}}
-- (double braces): its code appends that literal after calling format(), so
-- the braces are never collapsed. tests/unit/test_prompts.lua compares one
-- record per task with the reference's messages.
local M = {}

M.STYLES = {"reference", "slmmux"}

local REF = "billwang485/SLM-MUX-ICLR@7c632c60be88d28472f4e7f72adbbe27de8c9fda "

M.TEMPLATES = {
  reference = {
    math = {
      system = "Solve the following problem step by step. Review what you have done and "
        .. "make sure you have not made any mistakes. Be careful with intervals and plus or "
        .. "minus signs. Those parts are very easy to make mistakes. Provide the final answer "
        .. "enclosed in LaTeX \\boxed{...}.",
      user = "Problem:\n{problem}\n\nPlease provide your final answer in the form: \\boxed{{...}}",
      origin = REF .. "slm_mux/benchmarks/math500.py:61 (system :14, user :21 + :23)",
    },
    gsm8k = {
      system = "You are a helpful math tutor. Reason step by step to solve the problem. "
        .. "After your reasoning, output the final answer on a new line prefixed with '####'. "
        .. "Example: #### 42",
      user = "Problem:\n{problem}",
      origin = REF .. "slm_mux/benchmarks/gsm8k.py:58 (system :14, user :59)",
    },
    gpqa = {
      system = "You are a PhD student in science. Reason step by step through the following "
        .. "question and provide the best answer. Review what you have done and make sure you "
        .. "have not made any mistakes. Give your single-letter choice as '##Answer: X##'.",
      user = "Question:\n{problem}\n\nChoices:\n{choices}\n\nPlease provide your final "
        .. "single-letter answer in the format: ##Answer: X##.",
      origin = REF .. "slm_mux/benchmarks/gpqa.py:62 (system :14, user :64-67)",
    },
    humaneval = {
      system = "You are an expert Python programmer. Complete the given function. Return ONLY "
        .. "the function body inside a ```python code block. Do not include the function "
        .. "signature or docstring.",
      user = "{problem}",
      origin = REF .. "slm_mux/benchmarks/humaneval.py:146 (system :147, user :154)",
    },
  },
  slmmux = {
    math = {
      system = "You are a helpful math assistant. Solve the problem step by step, "
        .. "then give your final answer in LaTeX as \\boxed{...}.",
      user = "Problem:\n{problem}\n\nPut the final answer in the form \\boxed{...}.",
    },
    gsm8k = {
      system = "You are a helpful math tutor. Reason step by step to solve the problem. "
        .. "After your reasoning, write the final answer on a new line prefixed with '####'. "
        .. "Example: #### 42",
      user = "Problem:\n{problem}\n\nProvide your reasoning, then the final answer after '####'.",
    },
    gpqa = {
      system = "You are a helpful assistant. Reason step by step through the question "
        .. "and choose the best option. Finally, give your single-letter choice as '##Answer: X##'.",
      user = "Question:\n{problem}\n\nChoices:\n{choices}\n\n"
        .. "Give your final single-letter answer in the form ##Answer: X##.",
    },
    humaneval = {
      system = "You are an expert Python programmer. You write correct, "
        .. "self-contained Python 3 code.",
      user = "Complete the following Python function.\n\n```python\n{problem}```\n\n"
        .. "Reply with the complete function -- its signature, the imports and any "
        .. "helper functions it uses -- in a single ```python code block.",
    },
  },
}

for style, set in pairs(M.TEMPLATES) do
  for _, t in pairs(set) do t.style = style end
end

--- The template {system, user, style [, origin]} of `task` (a built-in task name)
-- in `style`; raises naming the styles when there is none.
function M.template(style, task)
  local set = M.TEMPLATES[style]
  if not set then
    error(string.format("prompts=%s: unknown prompt style (styles: %s)", tostring(style),
      table.concat(M.STYLES, ", ")), 0)
  end
  local t = set[task]
  if not t then error(string.format("prompts=%s: no template for task '%s'", style, task), 0) end
  return t
end

--- The template text with {problem} and {choices} replaced by
-- fields.problem and fields.choices, in one left-to-right pass (inserted
-- text is never scanned again); every other brace stays as it is.
function M.fill(text, fields)
  local out, at = {}, 1
  while true do
    local i, j, name = text:find("{(%a+)}", at)
    while i and fields[name] == nil do i, j, name = text:find("{(%a+)}", i + 1) end
    if not i then break end
    out[#out + 1] = text:sub(at, i - 1)
    out[#out + 1] = fields[name]
    at = j + 1
  end
  out[#out + 1] = text:sub(at)
  return table.concat(out)
end

--- The messages of one problem: system, then user, each filled with `fields`.
function M.messages(template, fields)
  return {
    {role = "system", content = M.fill(template.system, fields)},
    {role = "user", content = M.fill(template.user, fields)},
  }
end

return M
