-- recipes/scaling.lua's engine: collect max_k samples of every model on the
-- task's problems through mux.run (the store answers what it holds: only
-- missing samples are requested; with --offline none, and the problems
-- the store cannot complete are counted and left out), then the study
-- (slmmux.analysis.scaling), written in the run directory:
--   scaling_k.tsv/.png/.svg       accuracy against samples per model
--   scaling_models.tsv/...        accuracy against the number of models
--   scaling_tokens.tsv/...        accuracy against tokens per problem (k = 1..max_k)
--   scaling_cost.tsv/...          accuracy against cost (with prices)
--   scaling.json, report.html     the numbers, and the page with the run's
-- Recipe fields (-s KEY=VALUE): max_k (9), trials (200), models_k (3),
-- policies ("weighted,..."; registered policies replayed), search (a search
-- run directory: its search order gives the models), seed.
local cjson = require "cjson"
local errors = require "slmmux.errors"
local collect = require "slmmux.analysis.collect"
local panel = require "slmmux.analysis.panel"
local plot = require "slmmux.analysis.plot"
local policies = require "slmmux.policies"
local runreport = require "slmmux.analysis.runreport"
local scaling = require "slmmux.analysis.scaling"

local mux = require "slmmux"

local M = {}

local function pct(v) return v and string.format("%.1f", 100 * v) or "-" end

local function label(rule) return scaling.LABELS[rule] or rule end

-- The models of a search run directory, in its search order.
local function search_order(dir)
  local f = io.open(dir .. "/search.json", "r")
  if not f then errors.usage("scaling: search=" .. dir .. ": no search.json there (run recipes/search.lua first)") end
  local ok, j = pcall(cjson.decode, f:read("a"))
  f:close()
  if not ok or type(j.order) ~= "table" then errors.usage("scaling: " .. dir .. "/search.json has no search order") end
  return j.order
end

local function policy_list(text)
  local list = {}
  for name in tostring(text or ""):gmatch("[^,%s]+") do
    local p, err = policies.get(name)
    if not p then errors.usage("scaling: policies=" .. text .. ": " .. err) end
    list[#list + 1] = {name = name, policy = p}
  end
  return list
end

--- The printed tables.
function M.text(r)
  local out = {string.format("test-time scaling: %d problems, %d trials per point (seed %d); mean accuracy %% "
    .. "[2.5%%-97.5%% over trials]", r.problems, r.trials, r.seed)}
  out[#out + 1] = "samples per model (every model: " .. table.concat(r.names, ", ") .. ")"
  local head = {string.format("%-34s", "")}
  for k = 1, r.max_k do head[#head + 1] = string.format("%17s", "k=" .. k) end
  out[#out + 1] = table.concat(head)
  for _, rule in ipairs(r.rules) do
    local row = {string.format("%-34s", label(rule))}
    for k = 1, r.max_k do
      local p = r.k[rule][k]
      row[#row + 1] = string.format("%17s", string.format("%s [%s-%s]", pct(p.mean), pct(p.lo), pct(p.hi)))
    end
    out[#out + 1] = table.concat(row)
  end
  out[#out + 1] = string.format("number of models (added in this order, k = %d)", r.models_k)
  head = {string.format("%-34s", "")}
  for n = 2, #r.names do head[#head + 1] = string.format("%17s", n .. " models") end
  out[#out + 1] = table.concat(head)
  for _, rule in ipairs({"mux", "majority", "sc", "single"}) do
    local row = {string.format("%-34s", label(rule))}
    for _, p in ipairs(r.models[rule]) do
      row[#row + 1] = string.format("%17s", string.format("%s [%s-%s]", pct(p.mean), pct(p.lo), pct(p.hi)))
    end
    out[#out + 1] = table.concat(row)
  end
  if r.excluded then out[#out + 1] = r.excluded end
  return table.concat(out, "\n") .. "\n"
end

local HEADER = {"series", "x", "mean", "lo", "hi", "wilson_lo", "wilson_hi", "tokens_per_problem",
  "usd_per_problem", "k", "models", "trials"}

local function rows_of(r, axis, rules)
  local rows = {}
  for _, rule in ipairs(rules) do
    for _, p in ipairs(r[axis][rule] or {}) do
      rows[#rows + 1] = {label(rule), p.x, p.mean, p.lo, p.hi, p.wilson_lo, p.wilson_hi, p.tokens, p.cost, p.k,
        p.models, p.trials}
    end
  end
  return rows
end

local function series_of(rules)
  local s = {}
  for i, rule in ipairs(rules) do s[i] = label(rule) end
  return s
end

local function figures(dir, r)
  local base = {"mux", "majority", "sc", "single"}
  plot.tsv(dir .. "/scaling_k.tsv", HEADER, rows_of(r, "k", r.rules))
  plot.tsv(dir .. "/scaling_models.tsv", HEADER, rows_of(r, "models", base))
  local spend = {}
  for _, row in ipairs(rows_of(r, "k", r.rules)) do
    spend[#spend + 1] = {row[1], row[8], row[9], row[3], row[4], row[5], row[2]}
  end
  plot.tsv(dir .. "/scaling_tokens.tsv", {"series", "tokens_per_problem", "usd_per_problem", "mean", "lo", "hi", "k"},
    spend)
  if r.priced then
    plot.tsv(dir .. "/scaling_cost.tsv", {"series", "tokens_per_problem", "usd_per_problem", "mean", "lo", "hi",
      "k"}, spend)
  end
  local figs = {
    {name = "scaling_k", tsv = "scaling_k.tsv", style = "errorlines", series = series_of(r.rules),
      title = string.format("Accuracy against samples per model (%d models; %d trials, 2.5-97.5%%)", #r.names,
        r.trials), xlabel = "samples per model k", ylabel = "accuracy", cols = {x = 2, y = 3, lo = 4, hi = 5},
      caption = "accuracy against samples per model, with the interval over trials"},
    {name = "scaling_models", tsv = "scaling_models.tsv", style = "errorlines", series = series_of(base),
      title = string.format("Accuracy against the number of models (k = %d)", r.models_k),
      xlabel = "models (added in search order)", ylabel = "accuracy", cols = {x = 2, y = 3, lo = 4, hi = 5},
      caption = "accuracy against the number of models, with the interval over trials"},
    {name = "scaling_tokens", tsv = "scaling_tokens.tsv", style = "lines", series = series_of(r.rules),
      title = "Accuracy against tokens per problem (k = 1.." .. r.max_k .. ")", xlabel = "tokens per problem",
      ylabel = "accuracy", cols = {x = 2, y = 4}, logx = true, caption = "accuracy against tokens"},
  }
  if r.priced then
    figs[#figs + 1] = {name = "scaling_cost", tsv = "scaling_cost.tsv", style = "lines", series = series_of(r.rules),
      title = "Accuracy against cost per problem (k = 1.." .. r.max_k .. ")", xlabel = "USD per problem",
      ylabel = "accuracy", cols = {x = 3, y = 4}, logx = true, caption = "accuracy against cost"}
  end
  return figs
end

local function section(r)
  local rows = {}
  for _, rule in ipairs(r.rules) do
    for _, p in ipairs(r.k[rule]) do
      rows[#rows + 1] = {label(rule), p.x, pct(p.mean), pct(p.lo) .. " - " .. pct(p.hi),
        pct(p.wilson_lo) .. " - " .. pct(p.wilson_hi), string.format("%.0f", p.tokens),
        p.cost and string.format("%.5f", p.cost) or "-"}
    end
  end
  local head = {"rule", "k", "accuracy %", "trials 95% %", "Wilson 95% %", "tokens/problem", "USD/problem"}
  local p = {M.text(r)}
  if not r.priced then p[#p + 1] = "No prices for every model (-s prices in a recipe): no cost figure." end
  return {title = "Test-time scaling", paragraphs = p, tables = {{caption = "accuracy against k", head = head,
    rows = rows}}}
end

--- Writes the study's files into dir; returns the figures drawn.
function M.write(dir, r, run_summary)
  return runreport.write_study(dir, "scaling.json", {problems = r.problems, trials = r.trials, seed = r.seed,
    max_k = r.max_k, models_k = r.models_k, models = r.names, rules = r.rules, k = r.k, by_models = r.models,
    excluded = r.excluded}, "slmmux test-time scaling", section(r), figures(dir, r), run_summary)
end

-- Tie-break accuracies per panel model from the run's validation.
local function validation_accuracy(summary, models)
  local by = {}
  for _, r in ipairs(summary.models or {}) do
    if type(r.validation_accuracy) == "number" then by[r.model] = r.validation_accuracy end
  end
  local acc = {}
  for m, name in ipairs(models) do acc[m] = by[name] or -1 end
  return acc
end

--- The recipe: a run's fields plus the study's (see the header).
function M.recipe(recipe)
  local run = require "slmmux.run"
  local cli = mux.cli or {}
  local r = {}
  for k, v in pairs(recipe) do r[k] = v end
  for k, v in pairs(scaling.DEFAULTS) do if r[k] == nil and k ~= "seed" then r[k] = v end end
  r.policies = r.policies or ""
  r.search = r.search or ""
  r.policy = r.policy or "slm_mux"
  local cfg = run.configure(r, cli)
  if cfg.search ~= "" then r.models = search_order(cfg.search) end
  if cfg.max_k < 1 then errors.usage("scaling: max_k must be at least 1") end
  r.samples = cfg.max_k
  r.out = r.out or string.format("runs/scaling-%s-%s", type(cfg.task) == "string" and cfg.task or "task",
    os.date("%Y%m%d-%H%M%S"))
  local pols = policy_list(cfg.policies)
  local P, task, summary
  P, cfg, task, summary = collect.panel("scaling", r, cli)
  local t0 = mux.now()
  local result = scaling.run(P, {max_k = cfg.max_k, trials = cfg.trials, models_k = cfg.models_k, seed = cfg.seed,
    prices = cfg.prices, policies = pols, cfg = cfg, task = task}, validation_accuracy(summary, cfg.models))
  result.excluded = panel.excluded_note(P)
  result.seconds = mux.now() - t0
  io.write(M.text(result))
  io.write(string.format("scaling study: %.3f s; files: %s/scaling_k.tsv, scaling_models.tsv, report.html\n",
    result.seconds, summary.out))
  M.write(summary.out, result, summary)
  return result
end

return M
