-- Files the library carries beside its Lua code (lua/slmmux/...), such as
-- the Python programs the sandbox runs. They are read at run time from the
-- slmmux home, so the source tree and an installed copy (make install
-- copies lua/) find them alike.
local mux = require "slmmux"

local M = {}

local cache = {}

--- The text of lua/slmmux/<path> under the slmmux home (mux.home).
-- Raises a message naming the file when it cannot be read.
function M.read(path)
  local text = cache[path]
  if text then return text end
  local full = (mux.home or ".") .. "/lua/slmmux/" .. path
  local f, err = io.open(full, "rb")
  if not f then error("slmmux: cannot read the library file " .. full .. ": " .. tostring(err), 0) end
  text = f:read("a")
  f:close()
  cache[path] = text
  return text
end

return M
