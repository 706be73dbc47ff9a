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
-- A config names the variable that holds a key (key_env), never the key.
-- Endpoint fields: base_url, key_env, max_concurrency, rps, tpm, supports_n,
-- connect_timeout, timeout, stall_timeout (seconds), max_retries.
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
    local fields = {}
    for k, v in pairs(ep) do fields[k] = v end
    core.endpoint(name, fields)
    registered[name] = true
  end
  local out = { name = name }
  for k, v in pairs(ep) do out[k] = v end
  return out
end

--- Forget what was loaded (tests change the environment between runs).
function M.reset()
  endpoints, models, default_name = nil, nil, nil
end

return M
