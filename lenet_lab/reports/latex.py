"""The comparison table -> results.tex: a booktabs table to put in a paper, through pandas' Styler.

Generic over what the comparison holds: the grouping keys, every `<metric> mean` with its
`ci95 low`/`ci95 high` as mean ± half-width (accuracies in %), `n`, and a `verdict` column where
there is one. The first group (the table is ranked best first) is in bold; the caption carries
the legend that explains the verdicts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from lenet_lab import metrics as metric_names
from lenet_lab import sweep_folder

TEX_FILE = sweep_folder.RESULTS_TEX


SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
# Not special, but printed wrong: Δ and ± are not set up for text mode by LaTeX's utf8 input, and
# its default OT1 font encoding prints < and > as other glyphs.
SPECIAL.update({"Δ": r"$\Delta$", "±": r"$\pm$", "<": "$<$", ">": "$>$"})
SPECIAL_PATTERN = re.compile("|".join(map(re.escape, SPECIAL)))


def escape(text) -> str:
    """Plain text (group values, verdicts, headers, the legend) made safe for LaTeX, in one pass."""
    return SPECIAL_PATTERN.sub(lambda found: SPECIAL[found.group()], str(text))


def measured(metric: str, mean: float, low: float, high: float) -> str:
    """mean $\\pm$ half-width in the metric's unit; the mean alone for one seed."""
    text = metric_names.number(metric, mean)
    if text == "-" or pd.isna(low) or pd.isna(high):
        return text
    return f"{text} $\\pm$ {metric_names.number(metric, (high - low) / 2)}"


def latex_table(comparison: pd.DataFrame, group_by: list[str], metrics: list[str], legend: str = "", label: str = "tab:results") -> str:
    keys = [k for k in (group_by or ["all"]) if k in comparison]
    shown = pd.DataFrame({key: comparison[key].astype(str) for key in keys})
    numbers = []
    for metric in metrics:
        if f"{metric} mean" not in comparison:
            continue
        column = f"{metric} (%)" if metric_names.is_accuracy(metric) else metric
        shown[column] = [measured(metric, *values) for values in comparison[[f"{metric} mean", f"{metric} ci95 low", f"{metric} ci95 high"]].itertuples(index=False)]
        numbers.append(column)
    shown["n"] = comparison["n"].astype(str)
    text = [*keys, *(["verdict"] if "verdict" in comparison else [])]
    if "verdict" in comparison:
        shown["verdict"] = comparison["verdict"].fillna("").astype(str)

    styler = shown.style.hide(axis="index")
    styler = styler.format(escape, subset=text).format_index(escape, axis=1)
    # The best group's row: Styler's CSS bold, converted to \bfseries for LaTeX.
    styler = styler.apply(lambda row: ["font-weight: bold" if row.name == shown.index[0] else "" for _ in row], axis=1)
    caption = "n: completed seeds; the best-ranked group in bold. "
    # The legend says what the cells and verdicts mean; without one, the cells at least.
    caption += escape(legend) if legend else "Mean $\\pm$ 95\\% confidence half-width over seeds (Student's t; the mean alone for one seed)."
    columns = "".join("r" if c in numbers or c == "n" else "l" for c in shown.columns)
    return styler.to_latex(hrules=True, convert_css=True, column_format=columns, caption=caption, label=label, position_float="centering", environment="table")


def write_latex_table(out: Path, comparison: pd.DataFrame, group_by: list[str], metrics: list[str], legend: str = "") -> Path:
    path = Path(out) / TEX_FILE
    path.write_text("% lenet_lab's comparison table; needs \\usepackage{booktabs}\n" + latex_table(comparison, group_by, metrics, legend))
    return path
