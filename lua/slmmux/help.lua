-- `slmmux help` after the usage text: the registered policies and the
-- built-in tasks, one line each. Run as a script (./slmmux run lua/slmmux/help.lua).
local policies = require "slmmux.policies"
local tasks = require "slmmux.tasks"

local M = {}

local function rows(title, list)
  local width = 0
  for _, r in ipairs(list) do width = math.max(width, #r.name) end
  local out = {title}
  for _, r in ipairs(list) do
    out[#out + 1] = string.format("  %-" .. width .. "s  %s", r.name, r.description or "")
  end
  return table.concat(out, "\n") .. "\n"
end

--- The text: policies (-s policy=NAME), then tasks (-s task=NAME).
function M.text()
  local list = {}
  for i, name in ipairs(policies.names()) do
    list[i] = {name = name, description = policies.get(name).description}
  end
  return rows("policies (-s policy=NAME):", list) .. "\n"
    .. rows("tasks (-s task=NAME):", tasks.list())
end

-- As a script (no module name in `...`): print it.
if select("#", ...) == 0 or (...) ~= "slmmux.help" then io.write(M.text()) end

return M
