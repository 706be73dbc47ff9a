-- The manifest of a run (summary.json "manifest"): enough to rerun the
-- experiment or to tell two runs apart — the slmmux version and git commit
-- (when it runs from a checkout), the SHA-256 of every data file and of the
-- prompt template, the endpoints' base URLs (credentials stripped) and the
-- model ids asked for and served, every setting with its source, the
-- library versions, the host, and the start and end times.
local data = require "slmmux.data"

local mux = require "slmmux"

local M = {}

--- url without credentials: no user:password@, no query, no fragment
-- (servers that take a key in the URL take it there).
function M.strip_url(url)
  if type(url) ~= "string" then return url end
  url = url:gsub("[?#].*$", "")
  return (url:gsub("^(%a[%w+.-]*://)[^/@]*@", "%1"))
end

local function started(cmd)
  return io.popen(cmd .. " 2>/dev/null", "r")
end

-- The command's output (nil when empty) and whether it exited 0: a git
-- killed by the run's SIGINT prints nothing, which must not read as "clean".
local function output_of(p)
  if not p then return nil, false end
  local out = p:read("a")
  local ok = p:close()
  out = out and out:gsub("%s+$", "")
  return out ~= "" and out or nil, ok == true
end

--- The checkout's git commit and state, asked when the run starts and read
-- by build() when it ends, so that git's 20-40 ms overlap the run instead
-- of adding to its wall time. nil when slmmux does not run from a
-- checkout (an install).
function M.start_git(home)
  if not home then return nil end
  local f = io.open(home .. "/.git", "r")
  if not f then return nil end
  f:close()
  local q = "git -C " .. data.quote(home)
  return {commit = started(q .. " rev-parse HEAD"),
    status = started(q .. " status --porcelain --untracked-files=no")}
end

-- {commit, dirty} from start_git's probe (dirty nil when git status
-- failed: unknown), or nil.
local function git_of(probe)
  if not probe then return nil end
  local commit = output_of(probe.commit)
  local status, status_ok = output_of(probe.status)
  if not commit then return nil end
  local dirty
  if status_ok then dirty = status ~= nil end
  return {commit = commit, dirty = dirty}
end

local function file_entry(role, path, records, used)
  local sha, bytes = mux.file_sha256(path)
  return {role = role, path = path, sha256 = sha, bytes = bytes, records = records,
    used = used, error = not sha and bytes or nil}
end

local function data_files(sel)
  local files = {file_entry("evaluated", sel.path, sel.records, #sel.problems)}
  local v = sel.validation
  if v and v.path then files[2] = file_entry("validation", v.path, v.records, #v.problems) end
  return files
end

-- The template's texts and their digests; nil for a task of a recipe's own.
local function prompt_entry(task)
  local t = task.template
  if type(t) ~= "table" then return {style = "the task's own prompt function"} end
  return {style = t.style, origin = t.origin, system_sha256 = mux.store.hash(t.system),
    user_sha256 = mux.store.hash(t.user)}
end

--- {[model] = {name, base_url}} with every base URL stripped (strip_url).
function M.build_endpoints(endpoints)
  if not endpoints then return nil end
  local out = {}
  for m, ep in pairs(endpoints) do out[m] = {name = ep.name, base_url = M.strip_url(ep.base_url)} end
  return out
end

local function settings_entries(config, sources)
  local out = {}
  for k, v in pairs(config) do out[k] = {value = v, source = sources[k] or "run"} end
  return out
end

--- The manifest. o = {cfg, config (settings.record), sources, task, sel,
-- endpoints, served ({[model] = {[served id] = count}}), started_at, ended_at,
-- git (start_git's probe; asked now when absent)}.
function M.build(o)
  local about = mux.about()
  local host = about.host
  about.host, about.cjson = nil, require("cjson")._VERSION
  return {
    slmmux = {version = mux.version, home = mux.home, git = git_of(o.git or M.start_git(mux.home))},
    data = data_files(o.sel),
    prompt = prompt_entry(o.task),
    endpoints = M.build_endpoints(o.endpoints),
    models = {requested = o.cfg.models, served = next(o.served) and o.served or nil},
    settings = settings_entries(o.config, o.sources),
    libraries = about,
    host = host,
    started_at = o.started_at, ended_at = o.ended_at,
  }
end

return M
