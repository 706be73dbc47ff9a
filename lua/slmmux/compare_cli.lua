-- slmmux compare RUN_A RUN_B [RUN_C...] [--out DIR] [--seed N]: a paired
-- comparison of runs (slmmux.analysis.compare) on the problems they share,
-- printed as a table and written to DIR (default runs/compare-DATE):
-- compare.json, compare.tsv (per run), compare_diff.tsv (per pair), their
-- figures (compare, compare_diff) and report.html.
local compare = require "slmmux.analysis.compare"
local errors = require "slmmux.errors"
local html = require "slmmux.analysis.html"
local plot = require "slmmux.analysis.plot"
local report = require "slmmux.report"
local data = require "slmmux.data"

local mux = require "slmmux"

local cli = mux.cli
local dirs = cli.args or {}
if #dirs < 2 then errors.usage("compare needs two or more run directories: slmmux compare RUN_A RUN_B ...") end

local runs = {}
for i, d in ipairs(dirs) do runs[i] = compare.load((d:gsub("/+$", ""))) end
local c = compare.run(runs, {seed = cli.seed})
io.write(compare.text(c))

local out = cli.out or ("runs/compare-" .. os.date("%Y%m%d-%H%M%S"))
if not os.execute("mkdir -p -- " .. data.quote(out)) then error("compare: cannot create " .. out, 0) end
local f = assert(io.open(out .. "/compare.json", "w"))
f:write(report.encode_pretty({shared = #c.shared, shared_ids = c.shared, runs = c.runs, pairs = c.pairs,
  notes = c.notes, bootstrap = {reps = c.reps, seed = c.seed}}))
f:close()

local rows, pairs_rows = {}, {}
for _, r in ipairs(c.runs) do rows[#rows + 1] = {r.label, r.accuracy, r.wilson_lo, r.wilson_hi, r.right, #c.shared} end
for i, p in ipairs(c.pairs) do
  pairs_rows[#pairs_rows + 1] = {p.a .. " - " .. p.b, i, p.diff, p.lo, p.hi, p.p, p.wins, p.losses, p.ties}
end
plot.tsv(out .. "/compare.tsv", {"run", "accuracy", "wilson_lo", "wilson_hi", "right", "shared"}, rows)
plot.tsv(out .. "/compare_diff.tsv", {"pair", "index", "diff", "lo", "hi", "mcnemar_p", "wins", "losses", "ties"},
  pairs_rows)
local series = {}
for i, p in ipairs(c.pairs) do series[i] = p.a .. " - " .. p.b end
local figs = {
  {name = "compare", tsv = "compare.tsv", style = "bars", series = {"accuracy on the shared problems"},
    cols = {ys = {2}, label = 1}, yrange = {0, 1}, title = string.format("Accuracy on the %d shared problems",
      #c.shared), ylabel = "accuracy", caption = "accuracy of each run on the shared problems"},
  {name = "compare_diff", tsv = "compare_diff.tsv", style = "errorlines", series = series,
    cols = {x = 2, y = 3, lo = 4, hi = 5}, title = "Paired differences with bootstrap 95% intervals",
    xlabel = "pair", ylabel = "accuracy difference (A - B)", caption = "paired differences"},
}
plot.draw(out, figs)
local table_rows = {}
for _, p in ipairs(c.pairs) do
  table_rows[#table_rows + 1] = {p.a .. " - " .. p.b, string.format("%+.1f", 100 * p.diff),
    string.format("%.1f, %.1f", 100 * p.lo, 100 * p.hi), string.format("%.4g", p.p), p.wins, p.losses, p.ties}
end
local run_rows = {}
for _, r in ipairs(c.runs) do
  run_rows[#run_rows + 1] = {r.label, string.format("%.1f", 100 * r.accuracy),
    string.format("%.1f - %.1f", 100 * r.wilson_lo, 100 * r.wilson_hi), r.unshared, r.failed}
end
html.write(out, "slmmux compare", {{title = "Paired comparison", paragraphs = {compare.text(c)},
  tables = {{caption = "runs", head = {"run", "accuracy %", "Wilson 95% %", "not shared", "failed"}, rows = run_rows},
    {caption = "pairs", head = {"A - B", "diff %", "bootstrap 95% %", "McNemar p", "wins", "losses", "ties"},
      rows = table_rows}},
  figures = figs}})
print("files: " .. out .. "/compare.json, compare.tsv, compare_diff.tsv, report.html")
