-- The settings of a run: every setting with its kind and default (SETTINGS),
-- what -s key=value coerces to, the checks, and where each value came from.
-- A recipe may add fields of its own (e.g. lambda), which -s can then
-- override too.
--
-- Precedence, each layer over the one before (the layer is the setting's
-- source in summary.json): SETTINGS defaults < the task's settings (e.g.
-- lua/slmmux/tasks/math.lua: its models, k, T, max_tokens and validation
-- source, so every recipe of a task samples the same identities) < the
-- recipe < -s key=value < --limit, --out, --concurrency, --seed, --shuffle.
--
-- validation (tie-break accuracies) takes, in a recipe or with -s:
--   FILE               every problem of FILE (loaded by the task)
--   N                  the first N problems of the task's validation file;
--                      a task without one holds out records 1..N of the
--                      evaluated data instead (they are then not scored)
--   "crossfit"         k-fold cross-fitting on the evaluated problems
--                      (`folds` folds; a problem's accuracies come from
--                      the other folds' samples)
--   "none" / false     no measurement: `accuracy`, else model order
--   {data =, limit =, offset =}  a slice of a file
-- validation_samples: samples per model and validation problem (default 1;
-- with crossfit, `samples`, the evaluated samples themselves).
-- accuracy = {[model] = 0.71} (or -s accuracy=MODEL=0.71,...) gives the
-- accuracies instead; the later layer of accuracy and validation wins.
local errors = require "slmmux.errors"
local tasks = require "slmmux.tasks"

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
  prompts = {"string", "reference"},  -- reference | slmmux (slmmux.tasks.prompts)
  compat = {"string"},              -- reference: the reference's extraction and scoring
  concurrency = {"integer"},        -- requests in flight (default: each endpoint's limit)
  limit = {"integer"},
  shuffle = {"boolean", false},
  seed = {"integer", 0},            -- shuffle order and simulator
  out = {"string"},
  backend = {"string", "auto"},     -- auto | api | sim
  validation = {"validation"},      -- default: the task's, else crossfit
  validation_samples = {"integer"},
  folds = {"integer", 5},           -- crossfit folds
  accuracy = {"accuracy"},          -- {[model] = validation accuracy}
  max_unextracted = {"number", 0.2},  -- sanity check: share of samples without an answer
  prices = {"table"},               -- {[model] = {input =, output =}} in $/Mtok
  profiles = {"table"},             -- extra simulator profiles {[model] = profile}
  quiet = {"boolean", false},       -- no table on stdout
  partial = {"boolean", false},     -- a call failed for good: false, the problem is an error
                                    -- (retried next run); true, the other calls still decide
  -- the discussion policies' own (defaults in each policy's file)
  agents = {"integer"}, rounds = {"integer"},   -- debate
  layers = {"integer"}, aggregator = {"string"},  -- moa
  aspects = {"list"},                           -- mav
  confidence = {"string"},                      -- mux_confidence: consistency|verbalized|logprob
}
local SETTINGS = M.SETTINGS

local BACKENDS = {auto = true, api = true, sim = true}
local NONE = {none = true, ["false"] = true, off = true, no = true, ["0"] = true}
local RANK = {default = 0, task = 1, recipe = 2, ["-s"] = 3}

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
  elseif kind == "validation" then
    return v == false or type(v) == "table" or type(v) == "number" or type(v) == "string"
  elseif kind == "accuracy" then return type(v) == "table"
  elseif kind == "integer" then return math.type(v) == "integer" or (type(v) == "number" and v % 1 == 0)
  end
  return type(v) == kind
end

local BOOLEANS = {["true"] = true, yes = true, on = true, ["1"] = true,
  ["false"] = false, no = false, off = false, ["0"] = false}

local function coerce_list(text)
  local list = {}
  for item in text:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then list[#list + 1] = item end
  end
  return list
end

-- "MODEL=0.71,MODEL2=0.6" -> {[MODEL] = 0.71, ...}; the last "=" of an
-- item splits it, so a model id may hold one.
local function parse_accuracy(key, text)
  local acc = {}
  for _, item in ipairs(coerce_list(text)) do
    local model, value = item:match("^(.-)%s*=%s*([^=]-)$")
    local v = value and tonumber(value)
    if not model or model == "" or not v then
      fail("-s %s=%s: expected MODEL=ACCURACY,... (e.g. -s accuracy=m1=0.71,m2=0.64)", key, text)
    end
    acc[model] = v
  end
  return acc
end

-- -s key=value: the value's type is the kind of the setting it replaces.
local function coerce(key, text, kind)
  if kind == "string" or kind == "task" then return text end
  if kind == "validation" then return math.tointeger(tonumber(text)) or text end
  if kind == "accuracy" then return parse_accuracy(key, text) end
  if kind == "number" or kind == "integer" then
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
  if kind == "list" then return coerce_list(text) end
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

-- A copy of a task's setting, so a run never changes the task's table.
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
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

local function check_accuracy(acc, models)
  local known = {}
  for _, m in ipairs(models) do known[m] = true end
  for m, v in pairs(acc) do
    if not known[m] then
      fail("accuracy: '%s' is not one of the run's models (%s)", tostring(m), table.concat(models, ", "))
    end
    if type(v) ~= "number" or v < 0 or v > 1 then
      fail("accuracy of '%s' must be a number from 0 to 1, got %s", m, tostring(v))
    end
  end
end

-- The validation file of the task (its settings' validation.data), or nil.
local function task_validation_file(task)
  local v = tasks.settings(task).validation
  return type(v) == "table" and v.data or nil
end

local function slice_of(v, limit)
  if limit ~= nil and (math.type(limit) ~= "integer" or limit < 1) then
    fail("validation: limit must be a positive integer, got %s", tostring(limit))
  end
  local offset = v.offset or 0
  if math.type(offset) ~= "integer" or offset < 0 then
    fail("validation: offset must be a non-negative integer, got %s", tostring(offset))
  end
  return limit, offset
end

-- The validation setting as the runner uses it: nil (none), or {kind =
-- "data", data, limit, offset} | {kind = "holdout", limit, offset} |
-- {kind = "crossfit", folds}, each with samples.
local function normalize_validation(v, cfg)
  if v == nil then v = "crossfit" end
  if v == false or v == 0 or (type(v) == "string" and NONE[v:lower()]) then return nil end
  local out
  if v == "crossfit" then
    out = {kind = "crossfit", folds = cfg.folds}
  elseif type(v) == "string" then
    out = {kind = "data", data = v, offset = 0}
  else
    if type(v) == "number" then v = {limit = v} end
    local limit, offset = slice_of(v, v.limit)
    local file = v.data or task_validation_file(cfg.task)
    if file then
      out = {kind = "data", data = file, limit = limit, offset = offset}
    elseif not limit then
      fail("validation: a table needs data = FILE or limit = N")
    else
      out = {kind = "holdout", limit = limit, offset = offset}
    end
  end
  out.samples = cfg.validation_samples or (out.kind == "crossfit" and cfg.samples or 1)
  return out
end

-- accuracy and validation: the later layer wins; both in one layer is an error.
local function settle_accuracy(cfg, sources)
  if cfg.accuracy == nil then return end
  local ra, rv = RANK[sources.accuracy] or 3, RANK[sources.validation] or 0
  local none = cfg.validation == false or cfg.validation == 0
    or (type(cfg.validation) == "string" and NONE[cfg.validation:lower()])
  if ra > rv or none then
    cfg.validation = false
  elseif ra == rv then
    fail("set 'accuracy' or 'validation', not both (both come from the %s)",
      sources.accuracy == "-s" and "command line" or sources.accuracy)
  else
    cfg.accuracy, sources.accuracy = nil, nil
  end
end

local function check(cfg, sources)
  check_models(cfg.models)
  check_positive(cfg, {"samples", "max_tokens", "concurrency", "validation_samples"})
  if cfg.limit ~= nil and cfg.limit < 0 then fail("'limit' must not be negative") end
  if cfg.temperature < 0 then fail("'temperature' must not be negative") end
  if not BACKENDS[cfg.backend] then fail("-s backend=%s: expected auto, api or sim", cfg.backend) end
  if cfg.boxed ~= "first" and cfg.boxed ~= "last" then
    fail("-s boxed=%s: expected first or last", cfg.boxed)
  end
  if cfg.compat ~= nil and cfg.compat ~= "reference" then
    fail("-s compat=%s: expected reference (or leave it unset)", cfg.compat)
  end
  if cfg.folds < 2 then fail("'folds' must be at least 2, got %d", cfg.folds) end
  if cfg.max_unextracted < 0 or cfg.max_unextracted > 1 then
    fail("'max_unextracted' must be a share from 0 to 1, got %s", cfg.max_unextracted)
  end
  if cfg.accuracy ~= nil then check_accuracy(cfg.accuracy, cfg.models) end
  settle_accuracy(cfg, sources)
  cfg.validation = normalize_validation(cfg.validation, cfg)
end

local function apply(cfg, sources, key, value, source)
  cfg[key], sources[key] = value, source
end

local function apply_recipe(cfg, sources, recipe)
  for k, v in pairs(recipe) do
    local kind = SETTINGS[k] and SETTINGS[k][1]
    if kind and not fits(v, kind) then
      fail("recipe: '%s' must be a%s %s, got a %s", k, kind == "integer" and "n" or "", kind, type(v))
    end
    apply(cfg, sources, k, v, type(v) ~= "function" and "recipe" or nil)
  end
end

local function apply_overrides(cfg, sources, recipe, overrides)
  for key, text in pairs(overrides or {}) do
    local kind = kind_for(recipe, key)
    if not kind then
      fail("-s %s: unknown setting; valid: %s", key, table.concat(valid_keys(recipe), ", "))
    end
    apply(cfg, sources, key, coerce(key, tostring(text), kind), "-s")
  end
end

local function apply_flags(cfg, sources, cli)
  for _, k in ipairs({"limit", "out", "concurrency", "seed"}) do
    if cli[k] ~= nil then apply(cfg, sources, k, cli[k], "--" .. k) end
  end
  if cli.shuffle then apply(cfg, sources, "shuffle", true, "--shuffle") end
end

--- The settings of a run: SETTINGS defaults, the task's settings, the
-- recipe, -s overrides and CLI flags, checked. Returns cfg and {[key] =
-- source} ("default", "task", "recipe", "-s", "--limit"...). Raises a usage
-- error naming the offending setting.
function M.configure(recipe, cli)
  local cfg, sources = {}, {}
  for k, s in pairs(SETTINGS) do
    if s[2] ~= nil then apply(cfg, sources, k, s[2], "default") end
  end
  local overrides = cli.overrides or {}
  local task = overrides.task or recipe.task or SETTINGS.task[2]
  for k, v in pairs(tasks.settings(task)) do apply(cfg, sources, k, copy(v), "task") end
  apply_recipe(cfg, sources, recipe)
  apply_overrides(cfg, sources, recipe, overrides)
  apply_flags(cfg, sources, cli)
  for k, s in pairs(SETTINGS) do
    if s[1] == "integer" and type(cfg[k]) == "number" then cfg[k] = math.tointeger(cfg[k]) end
  end
  check(cfg, sources)
  return cfg, sources
end

--- The settings as summary.json records them: no functions, no task table.
function M.record(cfg, cli)
  local out = {}
  for k, v in pairs(cfg) do
    if type(v) ~= "function" and k ~= "task" then out[k] = v end
  end
  out.task = type(cfg.task) == "string" and cfg.task or nil
  out.recipe, out.overrides, out.offline = cli.recipe, cli.overrides, cli.offline or nil
  return out
end

return M
