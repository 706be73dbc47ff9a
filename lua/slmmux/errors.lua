-- errors: the kinds of failure a batch script must tell apart by the exit
-- status (`slmmux help` lists the codes). A function that finds bad
-- configuration or usage raises one of these instead of a plain string; the
-- command line maps its kind to the exit status and prints its message in
-- one line. Any other error is a runtime failure.
local M = {}

-- An error value reads like its message: tostring, .. and string methods
-- (err:find, err:match) work as on the plain string errors recipes catch.
local mt = {__tostring = function(e) return e.message end}
mt.__concat = function(a, b)
  return (getmetatable(a) == mt and a.message or a) .. (getmetatable(b) == mt and b.message or b)
end
mt.__index = function(e, k)
  local method = string[k]
  return method and function(_, ...) return method(e.message, ...) end
end

--- Raises an error of the given kind ("usage" or "config") with message msg.
function M.raise(kind, msg)
  error(setmetatable({kind = kind, message = msg}, mt), 0)
end

--- A configuration error: an endpoint, key variable, config file or setting is wrong.
function M.config(msg) M.raise("config", msg) end

--- A usage error: the command line or a recipe's settings are malformed.
function M.usage(msg) M.raise("usage", msg) end

--- An interruption: the run stopped after SIGINT or SIGTERM (the exit
-- status is 128 + the signal's number, whoever raised this).
function M.interrupted(msg) M.raise("interrupted", msg) end

--- The kind of an error value ("usage", "config", "interrupted"), or nil for any other error.
function M.kind(e)
  return getmetatable(e) == mt and e.kind or nil
end

return M
