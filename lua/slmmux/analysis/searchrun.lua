-- recipes/search.lua's engine: collect the pool's samples on the validation
-- set through mux.run (the store answers what it holds; only missing
-- samples are requested, none with --offline), run the search
-- (slmmux.analysis.search) and write, in the run directory beside the
-- pool run's own files:
--   search.json         everything below, and the options
--   search.tsv          every ranked subset: size, rank, models, score,
--                       union, contradiction rate and count, SLM-MUX accuracy
--   search_objective.*  per size, the best subset's score, union,
--                       contradiction and offline SLM-MUX accuracy
--   search_cv.tsv/.*    held-out SLM-MUX accuracy against lambda, per size
--   report.html         the run's sections and the search's
-- The recipe's fields (-s KEY=VALUE) besides a run's: lambda, robust_level,
-- min_size, max_size, top, normalize, lambdas ("0,0.25,0.5"), folds.
local errors = require "slmmux.errors"
local collect = require "slmmux.analysis.collect"
local plot = require "slmmux.analysis.plot"
local runreport = require "slmmux.analysis.runreport"
local search = require "slmmux.analysis.search"
local tasks = require "slmmux.tasks"

local mux = require "slmmux"

local M = {}

local function pct(v) return string.format("%.1f", 100 * v) end

local function parse_lambdas(text)
  if type(text) == "table" then return text end
  local list = {}
  for item in tostring(text):gmatch("[^,%s]+") do
    local v = tonumber(item)
    if not v then errors.usage("search: lambdas must be numbers separated by commas (got '" .. text .. "')") end
    list[#list + 1] = v
  end
  if #list == 0 then errors.usage("search: lambdas is empty") end
  return list
end

--- The options of the search from a run's settings (cfg).
function M.options(cfg)
  local o = {}
  for k in pairs(search.DEFAULTS) do
    if cfg[k] ~= nil then o[k] = cfg[k] end
  end
  if o.lambdas then o.lambdas = parse_lambdas(o.lambdas) end
  if o.normalize and o.normalize ~= "solved" and o.normalize ~= "all" then
    errors.usage("search: normalize must be solved or all (got " .. tostring(o.normalize) .. ")")
  end
  return o
end

--- The table printed: per size the ranked subsets, the best single model,
-- the cross-validated lambda and the search order.
function M.text(r)
  local o, out = r.options, {}
  out[#out + 1] = string.format("model-selection search: %d models, %d questions, k = %d; score = union "
    .. "- %g * contradiction (per %s question), robust_level %d", #r.models, r.questions, r.samples,
    o.lambda, o.normalize == "all" and "" or "solved", o.robust_level)
  out[#out + 1] = string.format("%-3s %-4s %7s %7s %15s %8s  %s", "K", "rank", "score", "union",
    "contradiction", "SLM-MUX", "models")
  local sizes = {}
  for size in pairs(r.sizes) do sizes[#sizes + 1] = size end
  table.sort(sizes)
  for _, size in ipairs(sizes) do
    for i, s in ipairs(r.sizes[size].ranked) do
      out[#out + 1] = string.format("%-3d %-4d %7.4f %6s%% %6s%% (%4d) %7s%%  %s", size, i, s.score,
        pct(s.union), pct(s.contradiction), s.contradictions, pct(s.mux), table.concat(s.models, " + "))
        .. (s.negative and "  (below 0: the reference reports no subset)" or "")
    end
  end
  local single = r.single
  out[#out + 1] = string.format("best single model: %s, pass@1 %s%%, SC@%d %s%%", single.model,
    pct(single.pass1), r.samples, pct(single.sc))
  if r.cv then
    local parts = {}
    for _, size in ipairs(sizes) do parts[#parts + 1] = string.format("K=%d %s%%", size, pct(r.cv.heldout[size])) end
    out[#out + 1] = string.format("lambda by %d-fold cross-validation: %g; held-out SLM-MUX accuracy of the "
      .. "chosen subsets: %s", r.cv.folds, r.cv.lambda, table.concat(parts, ", "))
  end
  out[#out + 1] = "search order: -s models=" .. table.concat(r.order, ",")
  if r.excluded then out[#out + 1] = r.excluded end
  return table.concat(out, "\n") .. "\n"
end

local function sorted_sizes(r)
  local sizes = {}
  for size in pairs(r.sizes) do sizes[#sizes + 1] = size end
  table.sort(sizes)
  return sizes
end

local function figures(dir, r)
  local rows, objective = {}, {}
  for _, size in ipairs(sorted_sizes(r)) do
    for i, s in ipairs(r.sizes[size].ranked) do
      rows[#rows + 1] = {size, i, table.concat(s.models, "+"), s.score, s.union, s.contradiction,
        s.solved, s.contradictions, s.mux}
    end
    local b = r.sizes[size].ranked[1]
    objective[#objective + 1] = {"score", size, b.score}
    objective[#objective + 1] = {"union accuracy", size, b.union}
    objective[#objective + 1] = {"contradiction rate", size, b.contradiction}
    objective[#objective + 1] = {"offline SLM-MUX accuracy", size, b.mux}
  end
  table.sort(objective, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  plot.tsv(dir .. "/search.tsv", {"size", "rank", "models", "score", "union", "contradiction", "solved",
    "contradictions", "slm_mux_accuracy"}, rows)
  plot.tsv(dir .. "/search_objective.tsv", {"series", "size", "value"}, objective)
  local figs = {{name = "search_objective", tsv = "search_objective.tsv", style = "lines",
    series = {"score", "union accuracy", "contradiction rate", "offline SLM-MUX accuracy"},
    title = string.format("Model-selection search: the best subset per size (lambda %g)", r.options.lambda),
    xlabel = "subset size K", ylabel = "", cols = {x = 2, y = 3},
    caption = "the search objective and its terms per subset size"}}
  if r.cv then
    local cv = {}
    for _, row in ipairs(r.cv.lambdas) do
      for _, size in ipairs(sorted_sizes(r)) do cv[#cv + 1] = {"K=" .. size, row.lambda, row.heldout[size]} end
    end
    table.sort(cv, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
    plot.tsv(dir .. "/search_cv.tsv", {"series", "lambda", "heldout_slm_mux_accuracy"}, cv)
    local series = {}
    for _, size in ipairs(sorted_sizes(r)) do series[#series + 1] = "K=" .. size end
    figs[#figs + 1] = {name = "search_cv", tsv = "search_cv.tsv", style = "lines", series = series,
      title = string.format("Held-out SLM-MUX accuracy against lambda (%d folds)", r.cv.folds),
      xlabel = "lambda", ylabel = "held-out accuracy", cols = {x = 2, y = 3},
      caption = "cross-validated lambda: held-out accuracy of the subsets each lambda chooses"}
  end
  return figs
end

local function section(r)
  local rows = {}
  for _, size in ipairs(sorted_sizes(r)) do
    for i, s in ipairs(r.sizes[size].ranked) do
      rows[#rows + 1] = {size, i, table.concat(s.models, " + "), string.format("%.4f", s.score), pct(s.union),
        string.format("%s (%d)", pct(s.contradiction), s.contradictions), pct(s.mux)}
    end
  end
  local p = {M.text(r)}
  return {title = "Model-selection search", paragraphs = p, tables = {{caption = "best subsets per size",
    head = {"K", "rank", "models", "score", "union %", "contradiction % (n)", "SLM-MUX %"}, rows = rows}}}
end

--- Writes the search's files into dir; returns the figures drawn.
function M.write(dir, r, run_summary)
  local json = {options = r.options, questions = r.questions, samples = r.samples, models = r.models,
    sizes = {}, single = r.single, order = r.order, cv = r.cv and {folds = r.cv.folds, lambda = r.cv.lambda,
      heldout = {}, chosen = {}, lambdas = {}}, excluded = r.excluded}
  for size, s in pairs(r.sizes) do json.sizes[tostring(size)] = s.ranked end
  if r.cv then
    for size, v in pairs(r.cv.heldout) do json.cv.heldout[tostring(size)] = v end
    for size, v in pairs(r.cv.chosen) do json.cv.chosen[tostring(size)] = v end
    for i, row in ipairs(r.cv.lambdas) do
      local h = {}
      for size, v in pairs(row.heldout) do h[tostring(size)] = v end
      json.cv.lambdas[i] = {lambda = row.lambda, mean = row.mean, heldout = h}
    end
  end
  return runreport.write_study(dir, "search.json", json, "slmmux search", section(r), figures(dir, r),
    run_summary)
end

-- The validation file of the task and how many of its records the task
-- validates on, else nil: its data (with a warning).
local function validation_data(cfg)
  local v = tasks.settings(cfg.task).validation
  if type(v) == "table" and v.data then return v.data, v.limit end
  io.stderr:write("slmmux: search: the task has no validation file; searching on its data (set -s data=FILE "
    .. "to search on held-out questions)\n")
  return nil
end

--- The recipe: recipe fields as mux.run's, plus the search's (M.options).
function M.recipe(recipe)
  local run = require "slmmux.run"
  local cli = mux.cli or {}
  local r = {}
  for k, v in pairs(recipe) do r[k] = v end
  for k, v in pairs(search.DEFAULTS) do
    if r[k] == nil and k ~= "folds" then r[k] = type(v) == "table" and table.concat(v, ",") or v end
  end
  r.policy = r.policy or "slm_mux"
  r.validation = "none"   -- the search measures its own tie-break accuracies
  local cfg = run.configure(r, cli)
  if not (cli.overrides and cli.overrides.data) and r.data == nil then
    local limit
    r.data, limit = validation_data(cfg)
    if r.limit == nil and limit then r.limit = limit end
  end
  r.out = r.out or string.format("runs/search-%s-%s", type(cfg.task) == "string" and cfg.task or "task",
    os.date("%Y%m%d-%H%M%S"))
  local P, summary
  P, cfg, _, summary = collect.panel("search", r, cli)
  local t0 = mux.now()
  local result = search.run(P, M.options(cfg))
  result.seconds = mux.now() - t0
  io.write(M.text(result))
  io.write(string.format("search and offline SLM-MUX: %.3f s; files: %s/search.json, search.tsv, report.html\n",
    result.seconds, summary.out))
  M.write(summary.out, result, summary)
  return result
end

return M
