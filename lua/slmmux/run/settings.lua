-- The settings of a run: every setting with its kind and default (SETTINGS),
-- what -s key=value coerces to, and the checks. A recipe may add fields of
-- its own (e.g. lambda), which -s can then override too.
--
-- Precedence: SETTINGS defaults < recipe < -s key=value < --limit, --out,
-- --concurrency, --seed, --shuffle.
local M = {}

-- Every setting, its kind (what -s coerces to) and default, in one place.
M.SETTINGS = {
  task = {"task", "math"},          -- a built-in task name or a task table
  data = {"string"},                -- default: the task's default_data
  models = {"list"},
  policy = {"string", "slm_mux"},   -- a name in slmmux.policies
  samples = {"integer", 3},         -- k, per model and problem
  temperature = {"number", 0.3},
  top_p = {"number"},
  max_tokens = {"integer", 2048},
  early_exit = {"boolean", false},
  boxed = {"string", "last"},       -- MATH: which \boxed{} is the answer
  concurrency = {"integer", 64},    -- problems in flight
  limit = {"integer"},
  shuffle = {"boolean", false},
  seed = {"integer", 0},            -- shuffle order and simulator
  out = {"string"},
  backend = {"string", "auto"},     -- auto | api | sim
  validation = {"validation"},
  accuracy = {"table"},             -- {[model] = validation accuracy}
  prices = {"table"},               -- {[model] = {input =, output =}} in $/Mtok
  profiles = {"table"},             -- extra simulator profiles {[model] = profile}
  quiet = {"boolean", false},       -- no table on stdout
}
local SETTINGS = M.SETTINGS

local BACKENDS = {auto = true, api = true, sim = true}

local errors = require "slmmux.errors"

local function fail(fmt, ...) errors.usage(string.format(fmt, ...)) end

local function kind_of(v)
  local t = type(v)
  if t == "table" then return type(v[1]) == "string" and "list" or "table" end
  if math.type(v) == "integer" then return "integer" end
  return t
end

local function fits(v, kind)
  if kind == "list" then return type(v) == "table"
  elseif kind == "task" then return type(v) == "string" or type(v) == "table"
  elseif kind == "validation" then return v == false or type(v) == "table" or type(v) == "number"
  elseif kind == "integer" then return math.type(v) == "integer" or (type(v) == "number" and v % 1 == 0)
  end
  return type(v) == kind
end

local BOOLEANS = {["true"] = true, yes = true, on = true, ["1"] = true,
  ["false"] = false, no = false, off = false, ["0"] = false}

-- -s key=value: the value's type is the kind of the setting it replaces.
local function coerce(key, text, kind)
  if kind == "string" or kind == "task" then return text end
  if kind == "number" or kind == "integer" or kind == "validation" then
    local v = tonumber(text)
    if not v or (kind ~= "number" and v % 1 ~= 0) then
      fail("-s %s=%s: expected %s", key, text, kind == "number" and "a number" or "an integer")
    end
    return math.tointeger(v) or v
  end
  if kind == "boolean" then
    local v = BOOLEANS[text:lower()]
    if v == nil then fail("-s %s=%s: expected true or false", key, text) end
    return v
  end
  if kind == "list" then
    local list = {}
    for item in text:gmatch("[^,]+") do
      item = item:match("^%s*(.-)%s*$")
      if item ~= "" then list[#list + 1] = item end
    end
    return list
  end
  fail("-s %s: a table cannot be set with -s; set it in the recipe", key)
end

local function valid_keys(recipe)
  local keys = {}
  for k in pairs(SETTINGS) do keys[#keys + 1] = k end
  for k, v in pairs(recipe) do
    if SETTINGS[k] == nil and type(k) == "string" and type(v) ~= "function" then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys)
  return keys
end

local function kind_for(recipe, key)
  if SETTINGS[key] then return SETTINGS[key][1] end
  local v = recipe[key]
  if v ~= nil and type(v) ~= "function" then return kind_of(v) end
end

local function apply_overrides(cfg, recipe, overrides)
  for key, text in pairs(overrides or {}) do
    local kind = kind_for(recipe, key)
    if not kind then
      fail("-s %s: unknown setting; valid: %s", key, table.concat(valid_keys(recipe), ", "))
    end
    cfg[key] = coerce(key, tostring(text), kind)
  end
end

local function apply_flags(cfg, cli)
  for _, k in ipairs({"limit", "out", "concurrency", "seed"}) do
    if cli[k] ~= nil then cfg[k] = cli[k] end
  end
  if cli.shuffle then cfg.shuffle = true end
end

local function check_models(models)
  if type(models) ~= "table" or #models == 0 then
    fail("recipe: 'models' must list at least one model (or -s models=a,b)")
  end
  local seen = {}
  for i, m in ipairs(models) do
    if type(m) ~= "string" or m == "" then fail("recipe: models[%d] must be a model name", i) end
    if seen[m] then fail("recipe: model '%s' is listed twice", m) end
    seen[m] = true
  end
end

local function check_positive(cfg, keys)
  for _, k in ipairs(keys) do
    if cfg[k] ~= nil and cfg[k] < 1 then fail("'%s' must be at least 1, got %s", k, cfg[k]) end
  end
end

-- validation = {limit = N, offset = 0 [, data = path]} (or just N); nil for none.
local function normalize_validation(v)
  if not v or v == 0 then return nil end
  if type(v) == "number" then v = {limit = v} end
  if math.type(v.limit) ~= "integer" or v.limit < 1 then
    fail("recipe: validation.limit must be a positive integer")
  end
  return {limit = v.limit, offset = v.offset or 0, data = v.data}
end

local function check(cfg)
  check_models(cfg.models)
  check_positive(cfg, {"samples", "max_tokens", "concurrency"})
  if cfg.limit ~= nil and cfg.limit < 0 then fail("'limit' must not be negative") end
  if cfg.temperature < 0 then fail("'temperature' must not be negative") end
  if not BACKENDS[cfg.backend] then fail("-s backend=%s: expected auto, api or sim", cfg.backend) end
  if cfg.boxed ~= "first" and cfg.boxed ~= "last" then
    fail("-s boxed=%s: expected first or last", cfg.boxed)
  end
  cfg.validation = normalize_validation(cfg.validation)
end

--- The settings of a run: SETTINGS defaults, the recipe, -s overrides and
-- CLI flags, checked. Raises a message naming the offending setting.
function M.configure(recipe, cli)
  local cfg = {}
  for k, s in pairs(SETTINGS) do cfg[k] = s[2] end
  for k, v in pairs(recipe) do
    local kind = SETTINGS[k] and SETTINGS[k][1]
    if kind and not fits(v, kind) then
      fail("recipe: '%s' must be a%s %s, got a %s", k, kind == "integer" and "n" or "", kind, type(v))
    end
    cfg[k] = v
  end
  apply_overrides(cfg, recipe, cli.overrides)
  apply_flags(cfg, cli)
  for k, s in pairs(SETTINGS) do
    if s[1] == "integer" and type(cfg[k]) == "number" then cfg[k] = math.tointeger(cfg[k]) end
  end
  check(cfg)
  return cfg
end

--- The settings as summary.json records them: no functions, no task table.
function M.record(cfg, cli)
  local out = {}
  for k, v in pairs(cfg) do
    if type(v) ~= "function" and k ~= "task" then out[k] = v end
  end
  out.recipe, out.overrides, out.offline = cli.recipe, cli.overrides, cli.offline or nil
  return out
end

return M
