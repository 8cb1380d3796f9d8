"""The page's sections that come from the sweep's tables: comparison, published vs measured,
figures, and the jobs that did not end as results. Each returns HTML, "" when it has nothing to say."""

from __future__ import annotations

import pandas as pd

from lenet_lab.reports.figures.calibration import reliability_figure
from lenet_lab.reports.figures.sweep import bars_figure, curves_figure, group_labels
from lenet_lab.reports.html.elements import escape, frame_table, from_markdown, sortable, svg


def comparison_html(table: str, legend: str) -> str:
    """results.md's table (sortable here) under its legend, as the tables module wrote them."""
    return from_markdown(legend) + sortable(from_markdown(table))


def published_html(published_text: str) -> str:
    return sortable(from_markdown(published_text)) if published_text else ""


def figures_html(summary: pd.DataFrame, curves: pd.DataFrame, group_by: list[str]) -> str:
    """The sweep's figures as curves.png and the bar charts draw them, as SVG; and calibration by group."""
    labels = group_labels(summary, group_by)
    return "".join(
        (
            svg(curves_figure(summary, curves, labels), "mean curve per group; band: 95% confidence interval over seeds at each epoch (Student's t)"),
            svg(bars_figure(summary, labels, "test/acc", "test accuracy (%)", 100)),
            svg(bars_figure(summary, labels, "train_time_s", "training time (s)", 1)),
            svg(reliability_figure(summary, labels), "accuracy against confidence over the test predictions of each group's completed jobs; on the diagonal: calibrated"),
        )
    )


def problems_html(summary: pd.DataFrame, at_chance: str = "") -> str:
    """Jobs that are no result (failed, diverged, pruned, interrupted, running) with their reasons;
    then those that completed at chance (`at_chance`: the tables' Markdown list of them)."""
    other = summary[summary.status != "completed"]
    parts = []
    if len(other):
        reasons = pd.DataFrame({"job": other.job, "status": other.status, "reason": other.get("error", pd.Series("", index=other.index)).fillna("")})
        parts.append(frame_table(reasons))
    if at_chance:
        parts.append("<h3>completed at chance</h3>" + from_markdown(at_chance))
    return "".join(parts)


def heading_html(title: str, summary: pd.DataFrame) -> str:
    counts = summary.status.value_counts()
    statuses = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"<h1>{escape(title)}</h1>\n<p class=muted>{len(summary)} jobs: {escape(statuses)}</p>\n"
