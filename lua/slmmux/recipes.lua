-- slmmux recipes: the recipes `slmmux run NAME` finds (NAME.lua in the
-- recipes directory of the slmmux home: the source tree, or share/slmmux
-- after make install), each with the first line of its header comment.
local mux = require "slmmux"
local data = require "slmmux.data"

local dir = mux.home .. "/recipes"
local names = {}
local list = io.popen("ls -1 -- " .. data.quote(dir) .. " 2>/dev/null")
for name in list:lines() do
  local base = name:match("^(.+)%.lua$")
  if base then names[#names + 1] = base end
end
list:close()
if #names == 0 then
  io.stderr:write("slmmux: no recipes in " .. dir .. "\n")
  return
end
local width = 0
for _, n in ipairs(names) do width = math.max(width, #n) end
for _, n in ipairs(names) do
  local f = io.open(dir .. "/" .. n .. ".lua")
  local first = f and f:read("l") or ""
  if f then f:close() end
  io.write(string.format("  %-" .. width .. "s  %s\n", n, first:match("^%-%-%s*(.-)%s*$") or ""))
end
io.write("run one with: slmmux run NAME [options]  (in " .. dir .. ")\n")
