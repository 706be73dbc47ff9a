-- What every run draws and writes beside results.jsonl and summary.json:
--   attribution.tsv/.png/.svg  which model's answer was selected, how often,
--                              and how often it was right then
--   calibration.tsv/...        per model, the accuracy of its top answer at
--                              each confidence (count/k), with the counts
--   cost.tsv/...               accuracy against tokens (or cost, when the run
--                              has prices) per problem: each model's pass@1
--                              and SC@k, and the run's policy
--   report.html                the tables and these figures on one page
-- With policy slm_mux_adaptive it also says how many samples the run
-- saved against asking k of every model. Called by the runner after
-- summary.json is written (lua/slmmux/run/init.lua); the sections are
-- reused by the search, whose run directory is a run's too.
local cjson = require "cjson"
local html = require "slmmux.analysis.html"
local plot = require "slmmux.analysis.plot"

local M = {}

local null = cjson.null

local function value(v) return v ~= nil and v ~= null and v or nil end

local function pct(v) v = value(v) return v and string.format("%.1f", 100 * v) or "-" end

--- The lines of dir/results.jsonl (decoded), in file order.
function M.lines(dir)
  local lines = {}
  local f = io.open(dir .. "/results.jsonl", "r")
  if not f then return lines end
  for text in f:lines() do
    if text:match("%S") then lines[#lines + 1] = cjson.decode(text) end
  end
  f:close()
  return lines
end

local function attribution(dir, s)
  local rows = {}
  for _, r in ipairs(s.models) do
    local sel = r.selected or {}
    rows[#rows + 1] = {r.model, sel.count or 0, value(sel.share) or 0, value(sel.accuracy) or 0}
  end
  plot.tsv(dir .. "/attribution.tsv", {"model", "selected", "share", "accuracy_when_selected"}, rows)
  return {name = "attribution", tsv = "attribution.tsv", style = "bars", title = "Attribution: whose answer "
    .. "was selected", ylabel = "share of problems / accuracy", yrange = {0, 1},
    cols = {ys = {3, 4}, label = 1}, series = {"share selected", "accuracy when selected"},
    caption = "which model's answer was selected, and its accuracy then"}
end

-- {model -> {[confidence] = {n, right}}} from the lines' top answers.
local function calibration_counts(lines)
  local per, order = {}, {}
  for _, l in ipairs(lines) do
    if not l.error then
      for _, m in ipairs(l.models or {}) do
        if #(m.calls or {}) > 0 then
          if not per[m.model] then per[m.model], order[#order + 1] = {}, m.model end
          local c = math.floor((value(m.confidence) or 0) * 1000 + 0.5) / 1000
          local cell = per[m.model][c] or {n = 0, right = 0}
          cell.n = cell.n + 1
          if m.top_correct then cell.right = cell.right + 1 end
          per[m.model][c] = cell
        end
      end
    end
  end
  return per, order
end

local function calibration(dir, lines)
  local per, order = calibration_counts(lines)
  local rows = {}
  for _, m in ipairs(order) do
    local levels = {}
    for c in pairs(per[m]) do levels[#levels + 1] = c end
    table.sort(levels)
    for _, c in ipairs(levels) do
      local cell = per[m][c]
      rows[#rows + 1] = {m, c, cell.right / cell.n, cell.n}
    end
  end
  plot.tsv(dir .. "/calibration.tsv", {"model", "confidence", "accuracy", "n"}, rows)
  return {name = "calibration", tsv = "calibration.tsv", style = "labelled", series = order,
    title = "Calibration: accuracy of the top answer by confidence (labels: problems)",
    xlabel = "confidence (count of the top answer / k)", ylabel = "accuracy", yrange = {0, 1.05},
    cols = {x = 2, y = 3, label = 4}, caption = "calibration per model, with counts"}, rows
end

local function per_problem(total, n) return n > 0 and total / n or 0 end

local function cost_figure(dir, s)
  local n = s.counts.scored > 0 and s.counts.scored or math.max(s.counts.total, 1)
  local priced = value(s.cost_usd) ~= nil
  local rows = {}
  local k = 0
  for _, r in ipairs(s.models) do k = math.max(k, r.samples or 0) end
  for _, r in ipairs(s.models) do
    local x = priced and value(r.cost_usd) or r.tokens.total
    local x1 = per_problem(x or 0, n)
    local perk = r.samples > 0 and x1 / r.samples or x1
    rows[#rows + 1] = {"model pass@1", perk, value(r.pass1.value) or 0, r.model}
    rows[#rows + 1] = {"model SC@" .. k, x1, value(r.self_consistency.value) or 0, r.model}
  end
  local total = priced and value(s.cost_usd).total or s.tokens.total
  rows[#rows + 1] = {s.label or s.policy, per_problem(total, n), value(s.accuracy.value) or 0, s.label or s.policy}
  plot.tsv(dir .. "/cost.tsv", {"series", priced and "usd_per_problem" or "tokens_per_problem", "accuracy", "name"}, rows)
  return {name = "cost", tsv = "cost.tsv", style = "labelled",
    series = {"model pass@1", "model SC@" .. k, s.label or s.policy},
    title = "Accuracy against " .. (priced and "cost" or "tokens") .. " per problem",
    xlabel = priced and "USD per problem" or "tokens per problem (no prices set)", ylabel = "accuracy",
    cols = {x = 2, y = 3, label = 4}, caption = "accuracy against " .. (priced and "cost" or "tokens")}
end

--- Samples a run used and would have used with k of every model: used,
-- full (over the problems decided), from the lines' calls.
function M.samples_used(lines, k, n_models)
  local used, full = 0, 0
  for _, l in ipairs(lines) do
    if not l.error then
      for _, m in ipairs(l.models or {}) do used = used + #(m.calls or {}) end
      full = full + k * n_models
    end
  end
  return used, full
end

local function model_table(s)
  local rows = {}
  for _, r in ipairs(s.models) do
    rows[#rows + 1] = {r.model, pct(r.pass1.value), pct(r.self_consistency.value),
      r.selected.count, pct(r.selected.accuracy), pct(r.validation_accuracy), r.tokens.total,
      value(r.cost_usd) and string.format("%.4f", r.cost_usd) or "-"}
  end
  return {caption = "models", head = {"model", "pass@1 %", "SC@k %", "selected", "acc. when selected %",
    "validation acc. %", "tokens", "cost USD"}, rows = rows}
end

--- The report sections of the run in dir (summary s), and the figures
-- (drawn or not). adaptive: the savings paragraph, or nil.
function M.sections(dir, s, lines)
  local figs = {attribution(dir, s), (calibration(dir, lines)), cost_figure(dir, s)}
  local a = s.accuracy
  local p = {string.format("%s on %s (%s): %s%% of %d scored problems (± %s), %d errors; backend %s%s.",
    s.label or s.policy, s.task, s.data or "?", pct(a.value), s.counts.scored, pct(a.stderr),
    s.counts.errors, s.backend, s.simulated and " (simulated models, not measurements)" or "")}
  if s.validation and s.validation.source then p[#p + 1] = "Tie-breaks: " .. s.validation.source end
  local adaptive = M.adaptive_line(s, lines)
  if adaptive then p[#p + 1] = adaptive end
  return {{title = "Run " .. (s.out or dir), paragraphs = p,
    tables = {{caption = "result", head = {"policy", "accuracy %", "± s.e.", "oracle %", "tokens", "cost USD"},
      rows = {{s.label or s.policy, pct(a.value), pct(a.stderr), pct(s.oracle.value), s.tokens.total,
        value(s.cost_usd) and string.format("%.4f", s.cost_usd.total) or "-"}}}, model_table(s)},
    figures = figs}}, figs
end

--- "adaptive sampling: U of F samples (S% saved)" for an adaptive run, else nil.
function M.adaptive_line(s, lines)
  if s.policy ~= "slm_mux_adaptive" then return nil end
  local k = s.config and s.config.samples or 0
  local used, full = M.samples_used(lines, k, #(s.config and s.config.models or {}))
  if full == 0 then return nil end
  return string.format("adaptive sampling: %d of %d samples requested (%.1f%% saved); every answer "
    .. "equals the answer of asking k = %d of every model", used, full, 100 * (full - used) / full, k)
end

--- Draws the run's figures and writes report.html in dir. Returns the
-- names of the figures drawn.
function M.write(dir, s)
  local lines = M.lines(dir)
  local sections, figs = M.sections(dir, s, lines)
  local drawn = plot.draw(dir, figs)
  html.write(dir, "slmmux run: " .. (s.label or s.policy) .. " on " .. tostring(s.task), sections)
  local adaptive = M.adaptive_line(s, lines)
  if adaptive and not (s.config and s.config.quiet) then print(adaptive) end
  return drawn
end

--- A study's files (search, scaling): its numbers as pretty JSON in
-- dir/json_name, then report.html with its section (figures figs) first and
-- the sections of the run that collected its samples after. Draws every
-- figure; returns the names drawn. A JSON file it cannot write is an error.
function M.write_study(dir, json_name, numbers, title, section, figs, run_summary)
  local path = dir .. "/" .. json_name
  local f, err = io.open(path, "w")
  local ok = f and f:write(require("slmmux.report").encode_pretty(numbers))
  if f then ok = f:close() and ok end
  if not ok then error("cannot write " .. path .. (err and ": " .. err or ""), 0) end
  section.figures = figs
  local sections = {section}
  if run_summary then
    local run_sections, run_figs = M.sections(dir, run_summary, M.lines(dir))
    for _, x in ipairs(run_sections) do sections[#sections + 1] = x end
    for _, x in ipairs(run_figs) do figs[#figs + 1] = x end
  end
  local drawn = plot.draw(dir, figs)
  html.write(dir, title, sections)
  return drawn
end

return M
