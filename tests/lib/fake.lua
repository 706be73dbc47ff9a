-- Start and stop the loopback fake OpenAI server (build/fakeserver) from a
-- Lua test. The server exits by itself after max_seconds, so a crashed test
-- never leaves it running.
local cjson = require "cjson"

local M = {}

local function tmpfile(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(content)
  f:close()
  return path
end

--- fake.start{script = {...}, latency_ms = N, max_seconds = N, require_key = "...",
--             mimic = "vllm"|"llamacpp"|...}
-- -> server {port, url, log_path, stop(), requests()}
function M.start(opts)
  opts = opts or {}
  local home = os.getenv("SLMMUX_HOME") or "."
  local args = { home .. "/build/fakeserver", "--port", "0",
                 "--max-seconds", tostring(opts.max_seconds or 120) }
  local log_path = os.tmpname()
  args[#args + 1] = "--log"
  args[#args + 1] = log_path
  if opts.latency_ms then
    args[#args + 1] = "--latency-ms"
    args[#args + 1] = tostring(opts.latency_ms)
  end
  local script_path
  if opts.script and opts.script.rules then
    script_path = tmpfile(cjson.encode(opts.script))
    args[#args + 1] = "--script"
    args[#args + 1] = script_path
  end
  if opts.mimic then
    args[#args + 1] = "--mimic"
    args[#args + 1] = opts.mimic
  end
  if opts.require_key then
    args[#args + 1] = "--require-key"
    args[#args + 1] = opts.require_key
  end
  local cmd = table.concat(args, " ")
  local pipe = assert(io.popen("sh -c '" .. cmd .. " & echo PID $!; wait' 2>&1", "r"))
  local pid, port
  for _ = 1, 10 do
    local line = pipe:read("l")
    if not line then break end
    pid = pid or tonumber(line:match("^PID (%d+)"))
    port = port or tonumber(line:match("^PORT (%d+)"))
    if pid and port then break end
  end
  assert(pid and port, "fake server did not start: " .. cmd)
  local server = { port = port, pid = pid, log_path = log_path,
                   root = "http://127.0.0.1:" .. port, url = "http://127.0.0.1:" .. port .. "/v1" }
  function server.stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    pipe:close()
    os.remove(log_path)
    if script_path then os.remove(script_path) end
  end
  --- The chat requests the server saw, from its log: array of tables.
  function server.requests()
    local out = {}
    local f = io.open(log_path, "r")
    if not f then return out end
    for line in f:lines() do out[#out + 1] = cjson.decode(line) end
    f:close()
    return out
  end
  return server
end

return M
