"""The page's style and its one script, inline: report.html must open offline, from a mail attachment."""

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
nav a { margin-right: 1em; } .muted { color: #666; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; display: block; max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " \\25B2"; } table.sortable th[aria-sort=descending]::after { content: " \\25BC"; }
table.confusion td { text-align: right; min-width: 2.2em; padding: 2px 4px; }
figure { margin: 1em 0; } figure svg, figure img { max-width: 100%; height: auto; }
figure svg { overflow: visible; } /* the browser's fonts are not matplotlib's: a label may come out a little wider */
details { margin: 0.3em 0; } details > summary { cursor: pointer; } details.job { border: 1px solid #eee; padding: 0.3em 0.6em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 12px; }
code { background: #f4f4f4; padding: 0 3px; }
.status-completed { color: #2a7d2a; } .status-failed, .status-diverged, .status-interrupted { color: #b22; }
"""

# Click a header to sort by that column, again to reverse. Cells that read as numbers ("99.05 ± 0.04",
# "+0.12", "12%") sort by their leading number, the rest as text; empty cells stay last.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (header) {
    header.addEventListener("click", function () {
      var column = header.cellIndex, body = table.tBodies[0];
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      function key(row) {
        var text = row.cells[column] ? row.cells[column].textContent.trim() : "";
        var match = text.replace("\\u2212", "-").match(/^[-+]?(\\d+\\.?\\d*|\\.\\d+)(e[-+]?\\d+)?/i);
        return { empty: text === "", number: match ? parseFloat(match[0]) : NaN, text: text };
      }
      var rows = Array.prototype.slice.call(body.rows).map(function (row) { return [key(row), row]; });
      rows.sort(function (a, b) {
        var x = a[0], y = b[0];
        if (x.empty !== y.empty) return x.empty ? 1 : -1;
        var order = !isNaN(x.number) && !isNaN(y.number) ? x.number - y.number : x.text.localeCompare(y.text, undefined, { numeric: true });
        return ascending ? order : -order;
      });
      rows.forEach(function (pair) { body.appendChild(pair[1]); });
    });
  });
});
"""
