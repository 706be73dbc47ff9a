-- Figures: the data as TSV (always), drawn as PNG and SVG by gnuplot
-- (Debian's gnuplot-nox, `make deps`) when it is there with its pngcairo
-- and svg terminals. Plotting never fails a run: without gnuplot the
-- process says so once on stderr and the TSVs are all there is.
--
-- A TSV is long-format with a header line: the first column names the
-- series, so any tool re-plots it (pandas, R, a spreadsheet).
--
-- A figure: {name = "scaling_k" (files name.png, name.svg), title, xlabel,
-- ylabel, tsv = its data file in the same directory ("x.tsv"), series = {names in column 1, in legend order},
-- style = "errorlines" (x, y, lo, hi) | "lines" (x, y) | "points" | "bars"
-- (a cluster per row, labelled by column `label`, a bar per column of
-- `ys`, series naming those columns) | "labelled" (points with column
-- `label` printed beside them), cols = {x =, y =, ys =, lo =, hi =, label =}
-- (column numbers), logx = bool, yrange = {lo, hi}}.
-- SLMMUX_GNUPLOT names the program (default gnuplot); a test points it at
-- nothing to check the run without it.
local data = require "slmmux.data"

local M = {}

local checked, usable, why_not = false, false, nil
local warned = false

local function program()
  local p = os.getenv("SLMMUX_GNUPLOT")
  return p and p ~= "" and p or "gnuplot"
end

local shell_quote = data.quote

--- true when gnuplot and both terminals are there; else false, why.
function M.available()
  if checked then return usable, why_not end
  checked = true
  local p = io.popen(shell_quote(program()) .. " -e 'set terminal' 2>&1 </dev/null")
  local text = p and p:read("a") or ""
  if p then p:close() end
  if not text:find("pngcairo", 1, true) or not text:find("svg", 1, true) then
    why_not = text:find("terminal types", 1, true) and "gnuplot lacks the pngcairo or svg terminal"
      or "gnuplot is not installed (make deps installs gnuplot-nox)"
    return false, why_not
  end
  usable = true
  return true
end

-- Once per process: the reason the figures are not drawn.
local function warn_once(msg)
  if warned then return end
  warned = true
  io.stderr:write("slmmux: figures not drawn: ", msg, "; their data is in the .tsv files\n")
end

local function cell(v)
  if v == nil then return "" end
  if type(v) == "number" then
    if v ~= v then return "NaN" end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.6g", v)
  end
  return (tostring(v):gsub("[\t\n\r]", " "))
end

--- Writes rows (arrays) under header (an array of column names) as TSV.
function M.tsv(path, header, rows)
  local f = assert(io.open(path, "w"))
  f:write(table.concat(header, "\t"), "\n")
  for _, r in ipairs(rows) do
    local cells = {}
    for i = 1, #header do cells[i] = cell(r[i]) end
    f:write(table.concat(cells, "\t"), "\n")
  end
  f:close()
  return path
end

-- gnuplot's single-quoted string: a quote is doubled
local function gq(s) return "'" .. tostring(s):gsub("'", "''") .. "'" end

local function filter(col, series)
  return string.format("(strcol(1) eq %s ? $%d : NaN)", gq(series), col)
end

local function plot_clause(dir, fig)
  local c, parts = fig.cols or {}, {}
  local data = dir .. "/" .. fig.tsv
  local style = fig.style or "lines"
  if style == "bars" then   -- clustered: one bar per column of c.ys, rows as clusters
    for i, col in ipairs(c.ys or {c.y or 3}) do
      parts[i] = string.format("%s skip 1 using %d%s title %s", i == 1 and gq(data) or "''", col,
        i == 1 and string.format(":xtic(%d)", c.label or 1) or "", gq((fig.series or {})[i] or ""))
    end
    return table.concat(parts, ", ")
  end
  for _, s in ipairs(fig.series) do
    local x = string.format("($%d)", c.x or 2)
    local y = filter(c.y or 3, s)
    if style == "errorlines" then
      parts[#parts + 1] = string.format("%s skip 1 using %s:%s:%s:%s with yerrorlines title %s",
        gq(data), x, y, filter(c.lo or 4, s), filter(c.hi or 5, s), gq(s))
    elseif style == "points" or style == "labelled" then
      parts[#parts + 1] = string.format("%s skip 1 using %s:%s with linespoints pointsize 1.3 title %s",
        gq(data), x, y, gq(s))
    else
      parts[#parts + 1] = string.format("%s skip 1 using %s:%s with linespoints title %s",
        gq(data), x, y, gq(s))
    end
  end
  if style == "labelled" then
    parts[#parts + 1] = string.format("%s skip 1 using %d:%d:(strcol(%d)) with labels offset 0,0.8 "
      .. "font ',8' notitle", gq(data), c.x or 2, c.y or 3, c.label or 4)
  end
  return table.concat(parts, ", \\\n  ")
end

local function script_of(dir, fig)
  local lines = {
    "reset",
    "set datafile separator '\\t'",
    "set title " .. gq(fig.title or fig.name) .. " noenhanced",
    "set xlabel " .. gq(fig.xlabel or "") .. " noenhanced",
    "set ylabel " .. gq(fig.ylabel or "") .. " noenhanced",
    "set grid", "set key below noenhanced", "set termoption noenhanced",
  }
  if fig.logx then lines[#lines + 1] = "set logscale x" end
  if fig.yrange then
    lines[#lines + 1] = string.format("set yrange [%s:%s]", cell(fig.yrange[1]), cell(fig.yrange[2]))
  end
  if fig.style == "bars" then
    lines[#lines + 1] = "set style data histograms"
    lines[#lines + 1] = "set style histogram clustered gap 1"
    lines[#lines + 1] = "set style fill solid 0.6 border -1"
    lines[#lines + 1] = "set xtics rotate by -30"
  else
    lines[#lines + 1] = "set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05"
  end
  local plot = "plot " .. plot_clause(dir, fig)
  local base = dir .. "/" .. fig.name
  lines[#lines + 1] = "set terminal pngcairo size 900,540 font 'sans,10'"
  lines[#lines + 1] = "set output " .. gq(base .. ".png")
  lines[#lines + 1] = plot
  lines[#lines + 1] = "set terminal svg size 900,540 font 'sans,10'"
  lines[#lines + 1] = "set output " .. gq(base .. ".svg")
  lines[#lines + 1] = "replot"
  lines[#lines + 1] = "unset output"
  return table.concat(lines, "\n") .. "\n"
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- Draws figs (see the header) into dir with one gnuplot run. Returns the
-- names of the figures drawn (name.png and name.svg both written), and a
-- reason when none could be (gnuplot missing or failing: said once). The
-- drawing is tried first and gnuplot probed only when it fails: a probe
-- before every run cost 75 ms of each run's wall time.
function M.draw(dir, figs)
  if #figs == 0 then return {} end
  if checked and not usable then warn_once(why_not) return {}, why_not end
  local parts = {}
  for i, fig in ipairs(figs) do
    os.remove(dir .. "/" .. fig.name .. ".png")
    os.remove(dir .. "/" .. fig.name .. ".svg")
    parts[i] = script_of(dir, fig)
  end
  local script_path = dir .. "/.figures.gp"
  local f, err = io.open(script_path, "w")
  local wrote = f and f:write(table.concat(parts))
  if f then wrote = f:close() and wrote end
  if not wrote then
    os.remove(script_path)
    local why = "cannot write " .. script_path .. (err and ": " .. err or "")
    warn_once(why)
    return {}, why
  end
  local log = dir .. "/.figures.log"
  local cmd = string.format("%s %s >%s 2>&1 </dev/null", shell_quote(program()), shell_quote(script_path),
    shell_quote(log))
  local ran = os.execute(cmd)
  local drawn = {}
  for _, fig in ipairs(figs) do
    local base = dir .. "/" .. fig.name
    if exists(base .. ".png") and exists(base .. ".svg") then drawn[#drawn + 1] = fig.name end
  end
  if ran and #drawn == #figs then
    os.remove(log)
    os.remove(script_path)
    return drawn
  end
  local ok, why = M.available()
  if not ok then
    os.remove(log)
    os.remove(script_path)
    warn_once(why)
    return drawn, why
  end
  local lf = io.open(log, "r")
  local text = lf and lf:read("a") or ""
  if lf then lf:close() end
  warn_once(string.format("gnuplot failed on %d of %d figures: %s", #figs - #drawn, #figs,
    (text:match("[^\n]*[Ee]rror[^\n]*") or text:match("[^\n]+") or "no message")))
  return drawn
end

return M
