"""Pieces of HTML: escaped text, Markdown, tables, folded blocks, figures inline (SVG) and images inline (PNG as base64).

Everything ends up inside the one file: no links to other files, nothing to fetch.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import markdown
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image


def escape(value) -> str:
    return html.escape("" if value is None else str(value))


def from_markdown(text: str, heading_level: int = 3) -> str:
    """The tables' Markdown (results.md's legend and table, published.md) as HTML; its headings
    start at `heading_level`, under the page's own sections."""
    return markdown.markdown(text, extensions=["tables", "toc"], extension_configs={"toc": {"baselevel": heading_level}}, output_format="html")


def text(value) -> str:
    """A cell's text: missing values empty; an override's list value as written ([[1, 0.1]])."""
    if isinstance(value, (list, tuple, dict)):
        return str(value)
    return "" if value is None or pd.isna(value) else str(value)


def sortable(table_html: str) -> str:
    """Tables from Markdown made sortable by the page's script (assets.SORT_SCRIPT)."""
    return table_html.replace("<table>", '<table class="sortable">')


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}">\n<h2>{escape(title)}</h2>\n{body}\n</section>\n' if body else ""


def details(summary: str, body: str, css_class: str = "") -> str:
    """A block folded away: `summary` (HTML) shows, `body` (HTML) opens on a click."""
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<details{attribute}><summary>{summary}</summary>\n{body}\n</details>\n"


def frame_table(frame: pd.DataFrame, numbers: list[str] = (), css_class: str = "sortable") -> str:
    """A DataFrame whose cells are already text, as an HTML table; `numbers`: columns aligned right."""
    head = "".join(f"<th{' class=number' if c in numbers else ''}>{escape(c)}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = "".join(f"<td{' class=number' if c in numbers else ''}>{escape(text(v))}</td>" for c, v in zip(frame.columns, values))
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table>\n"


def svg(fig: plt.Figure | None, caption: str = "") -> str:
    """A matplotlib figure as inline SVG (text kept as text: a third of the size of glyphs drawn as paths)."""
    if fig is None:
        return ""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # the XML declaration and DOCTYPE are not allowed inside HTML
    return figure(text, caption)


def figure(content: str, caption: str = "") -> str:
    return f"<figure>{content}" + (f"<figcaption class=muted>{escape(caption)}</figcaption>" if caption else "") + "</figure>\n"


def png(path: Path, alt: str, colours: int = 32) -> str:
    """A PNG on disk, inline, reduced to `colours` colours first: digit grids and their captions
    need few, and the page stays small (a 100-digit grid: 120 KB as written, ~50 KB inline as base64)."""
    with Image.open(path) as image:
        # Fast octree, no optimize pass: 0.03 s a grid instead of 0.26 s, for a file 10% larger.
        reduced = image.convert("RGB").quantize(colours, method=Image.Quantize.FASTOCTREE)
        width, height = reduced.size
        buffer = io.BytesIO()
        reduced.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}" width="{width}" height="{height}">'
