"""DataFrame -> a GitHub Markdown table (pandas' own `to_markdown` needs the tabulate package)."""

from __future__ import annotations

import re

import pandas as pd

NUMBER = re.compile(r"^[-+]?[\d.]+( ± [\d.]+)?$|^-?$")


def cell(value) -> str:
    if isinstance(value, (list, tuple, dict)):  # an override's value may be a list: lr_scheduler.values=[[1,0.1]]
        return str(value).replace("|", "\\|")
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    columns = [str(c) for c in frame.columns]
    rows = [[cell(v) for v in row] for row in frame.itertuples(index=False)]
    # Right-align numbers, also those already formatted as text ("99.05 ± 0.04").
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) or all(NUMBER.match(r[i]) for r in rows) for i, c in enumerate(frame.columns)]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]

    def line(cells):
        padded = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line(columns), rule, *(line(r) for r in rows)])
