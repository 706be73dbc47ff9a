-- report.html: the tables and figures of a run, search, scaling study or
-- comparison on one self-contained page. Figures are the PNGs embedded as
-- base64 data URIs, so the page needs nothing else (no network, no file
-- beside it) to be read; each links its TSV for whoever wants the numbers.
--
-- A section: {title =, paragraphs = {text...}, tables = {{caption =, head =
-- {...}, rows = {{...}}}}, figures = {{name =, caption =}}} (the figure
-- name.png in the directory; figures not drawn are listed by their TSV).
local M = {}

local function esc(s)
  return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end
M.escape = esc

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

--- The base64 text of s (RFC 4648, padded).
function M.base64(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = (a << 16) | ((b or 0) << 8) | (c or 0)
    local q = {(v >> 18) & 63, (v >> 12) & 63, (v >> 6) & 63, v & 63}
    local chars = {}
    for j = 1, 4 do chars[j] = B64:sub(q[j] + 1, q[j] + 1) end
    if not b then chars[3], chars[4] = "=", "=" elseif not c then chars[4] = "=" end
    out[#out + 1] = table.concat(chars)
  end
  return table.concat(out)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function table_html(t)
  local out = {"<table>"}
  if t.caption then out[#out + 1] = "<caption>" .. esc(t.caption) .. "</caption>" end
  local head = {}
  for _, h in ipairs(t.head or {}) do head[#head + 1] = "<th>" .. esc(h) .. "</th>" end
  out[#out + 1] = "<thead><tr>" .. table.concat(head) .. "</tr></thead><tbody>"
  for _, r in ipairs(t.rows or {}) do
    local cells = {}
    for i = 1, #(t.head or r) do cells[i] = "<td>" .. esc(r[i] == nil and "" or r[i]) .. "</td>" end
    out[#out + 1] = "<tr>" .. table.concat(cells) .. "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out, "\n")
end

local function figure_html(dir, fig)
  local png = read(dir .. "/" .. fig.name .. ".png")
  local tsv = esc(fig.tsv or (fig.name .. ".tsv"))
  local links = string.format('<a href="%s">%s</a>', tsv, tsv)
  if not png then
    return string.format("<p class=\"missing\">%s: not drawn (gnuplot missing); data: %s</p>",
      esc(fig.caption or fig.name), links)
  end
  return string.format('<figure><img alt="%s" src="data:image/png;base64,%s">'
    .. "<figcaption>%s (data: %s)</figcaption></figure>", esc(fig.caption or fig.name), M.base64(png),
    esc(fig.caption or fig.name), links)
end

local STYLE = [[
body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.25em .6em;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}caption{text-align:left;font-weight:bold}
figure{margin:1em 0}img{max-width:100%}figcaption{font-size:90%;color:#555}.missing{color:#a00}
]]

--- The page's HTML text.
function M.page(dir, title, sections)
  local out = {"<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<title>" .. esc(title) .. "</title><style>" .. STYLE .. "</style></head><body>",
    "<h1>" .. esc(title) .. "</h1>"}
  for _, s in ipairs(sections) do
    out[#out + 1] = "<section><h2>" .. esc(s.title) .. "</h2>"
    for _, p in ipairs(s.paragraphs or {}) do out[#out + 1] = "<p>" .. esc(p) .. "</p>" end
    for _, t in ipairs(s.tables or {}) do out[#out + 1] = table_html(t) end
    for _, f in ipairs(s.figures or {}) do out[#out + 1] = figure_html(dir, f) end
    out[#out + 1] = "</section>"
  end
  out[#out + 1] = "</body></html>"
  return table.concat(out, "\n") .. "\n"
end

--- Writes dir/report.html; returns its path.
function M.write(dir, title, sections)
  local path = dir .. "/report.html"
  local f = assert(io.open(path, "w"))
  f:write(M.page(dir, title, sections))
  f:close()
  return path
end

return M
