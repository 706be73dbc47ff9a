-- Endpoints: where each model is served.
--
-- Sources, later ones winning: the environment (OPENAI_BASE_URL with
-- OPENAI_API_KEY; TOGETHER_API_KEY; OPENAI_API_KEY alone), the user file
-- ~/.config/slmmux/config.lua, the project file ./slmmux.config.lua, and
-- $SLMMUX_CONFIG. A config file returns a table:
--
--   return {
--     endpoints = {
--       vllm = { base_url = "http://localhost:8000/v1", max_concurrency = 128 },
--       together = { base_url = "https://api.together.xyz/v1",
--                    key_env = "TOGETHER_API_KEY", rps = 10 },
--     },
--     models = { ["Qwen/Qwen2.5-7B-Instruct"] = "vllm" },   -- model -> endpoint
--     default = "together",                                -- everything else
--   }
--
-- A config names the variable that holds a key (key_env), never the key; a
-- key_env naming a variable that is not set stops the run before it starts.
--
-- Endpoint fields (times in seconds):
--   base_url         http(s)://host[:port]/v1 — OpenAI-compatible servers answer at
--                    BASE/chat/completions; a 404 on a URL without /v1 says so.
--                    Userinfo (https://user:pass@host/v1) is sent, and never shown
--                    or stored: a sample's identity uses the URL without it, with
--                    scheme and host in lower case, no default port, no trailing /.
--   key_env          the variable holding the key (sent as Authorization: Bearer)
--   max_concurrency  requests in flight to this endpoint. Default by kind: a
--                    server on this machine or a private network (or any http://
--                    URL) 256; a provider (https:// elsewhere) is adaptive: each
--                    model starts at 64 and grows by one per success up to 1024.
--                    --concurrency N sets N for every endpoint without its own,
--                    and caps the run's total at N. No other cap applies.
--   rps, tpm         client-side requests/s and (estimated) tokens/min budgets
--   supports_n       false: ask one sample per request. Not needed for servers that
--                    refuse n > 1 (llama.cpp, vLLM greedy) or ignore it (Ollama): the
--                    first such reply is noticed and the samples re-asked one by one
--   connect_timeout  10; timeout 600 (one attempt); stall_timeout 120 (no byte)
--   retry_budget     600: a failing request is retried (connection errors, 408, 409,
--                    429, 5xx, x-should-retry) until this long after it was queued,
--                    then fails with the provider's message and code
--   max_retries      a count of retries to stop at as well (default: none)
--   ca_file          a PEM file of CA certificates to trust for https://, instead of
--                    the system's (a private CA, a test certificate)
--
-- Rate limits: each (endpoint, model) adapts on its own, as the providers limit
-- each model apart. A 429 (or a 503) halves that model's requests in flight, at
-- most once a second however many arrive, down to 1; each success grows it back
-- by one. A Retry-After (or retry-after-ms) delays its request and holds that
-- model's new requests for up to 2 s; other models go on.
local core = require "slmmux.core"
local errors = require "slmmux.errors"

local M = {}

local endpoints, models, default_name
local registered = {}

local function from_environment()
  local eps, default = {}, nil
  local key = os.getenv("OPENAI_API_KEY")
  if os.getenv("TOGETHER_API_KEY") then
    eps.together = { base_url = "https://api.together.xyz/v1", key_env = "TOGETHER_API_KEY" }
    default = "together"
  end
  if os.getenv("OPENAI_BASE_URL") then
    eps.openai = { base_url = os.getenv("OPENAI_BASE_URL"),
                   key_env = key and "OPENAI_API_KEY" or nil }
    default = "openai"
  elseif key then
    eps.openai = { base_url = "https://api.openai.com/v1", key_env = "OPENAI_API_KEY" }
    default = default or "openai"
  end
  return eps, default
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  f:close()
  local chunk, err = loadfile(path, "t", {})
  if not chunk then errors.config("config " .. path .. ": " .. err) end
  local ok, t = pcall(chunk)
  if not ok then errors.config("config " .. path .. ": " .. tostring(t)) end
  if type(t) ~= "table" then errors.config("config " .. path .. ": must return a table") end
  return t
end

local function merge(cfg, path)
  for name, ep in pairs(cfg.endpoints or {}) do
    if type(ep) ~= "table" or type(ep.base_url) ~= "string" then
      errors.config("config " .. path .. ": endpoint '" .. tostring(name) .. "' needs base_url")
    end
    if ep.key then
      errors.config("config " .. path .. ": endpoint '" .. name .. "' holds a key; name the "
            .. "environment variable instead (key_env = \"...\")")
    end
    endpoints[name] = ep
  end
  for model, name in pairs(cfg.models or {}) do models[model] = name end
  default_name = cfg.default or default_name
end

local function load()
  if endpoints then return end
  endpoints, models = {}, {}
  endpoints, default_name = from_environment()
  local home = os.getenv("HOME")
  local files = { home and (home .. "/.config/slmmux/config.lua"), "slmmux.config.lua",
                  os.getenv("SLMMUX_CONFIG") }
  for i = 1, 3 do
    local path = files[i]
    local cfg = path and read_file(path)
    if cfg then merge(cfg, path) end
  end
end

--- The endpoint serving model: a table with name and its fields, or nil
-- and a message saying how to configure one.
function M.resolve(model)
  load()
  local name = models[model] or default_name
  local ep = name and endpoints[name]
  if not ep then
    if name then return nil, "endpoint '" .. name .. "' is not configured" end
    return nil, "no endpoint configured for model '" .. tostring(model) .. "' (set "
      .. "OPENAI_BASE_URL or TOGETHER_API_KEY, or write slmmux.config.lua)"
  end
  if not registered[name] then
    if ep.key_env and not os.getenv(ep.key_env) then
      errors.config("endpoint '" .. name .. "': key_env names " .. tostring(ep.key_env)
        .. ", which is not set in the environment (export it, or remove key_env)")
    end
    local fields = {}
    for k, v in pairs(ep) do fields[k] = v end
    core.endpoint(name, fields)
    registered[name] = true
  end
  local out = { name = name }
  for k, v in pairs(ep) do out[k] = v end
  -- as a sample's identity has it: no credentials
  out.base_url = core.endpoint_info(name).base_url
  return out
end

--- One line saying how many requests the endpoint called name has in
-- flight, and where it is (without credentials): printed at a run's start.
function M.describe(name)
  local info = core.endpoint_info(name)
  if not info then return nil end
  local how
  if info.adaptive then
    how = string.format("adaptive: %d requests in flight per model at first, growing to %d "
      .. "while the server accepts them", info.start, info.limit)
  else
    how = string.format("%d requests in flight", info.limit)
  end
  return string.format("endpoint %s at %s: %s (halved per model on a 429; "
    .. "max_concurrency or --concurrency to set)", name, info.base_url, how)
end

--- Forget what was loaded (tests change the environment between runs).
function M.reset()
  endpoints, models, default_name = nil, nil, nil
end

return M
