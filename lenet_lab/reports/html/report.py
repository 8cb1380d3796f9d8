"""A sweep's tables -> report.html: one self-contained page to look at, mail and open offline.

Sections, in order (a new one: a function returning HTML in sections.py, or a module of its own
here, and its line in `write_html_report`'s body): the comparison with its verdicts, published vs
measured, figures, jobs that are no result, every job, and where the numbers come from. Everything
is inline (style, script, SVG figures, PNGs as base64): nothing is fetched, nothing is linked.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lenet_lab import sweep_folder
from lenet_lab.reports.html import sections
from lenet_lab.reports.html.assets import SORT_SCRIPT, STYLE
from lenet_lab.reports.html.elements import escape, section
from lenet_lab.reports.html.jobs import calibration_error, job_block, overview
from lenet_lab.reports.html.provenance import provenance_html
from lenet_lab.reports.jobs import Job

REPORT_HTML = sweep_folder.REPORT_HTML
# Jobs whose confusion matrix and figures go into the page, in the summary's order: ~100 KB each,
# so a 1,000-job search stays a page (and seconds) and not 100 MB; the rest show numbers and config.
PICTURED_JOBS = 50


def write_html_report(
    out: Path,
    summary: pd.DataFrame,
    table: str,
    legend: str,
    curves: pd.DataFrame,
    group_by: list[str],
    parameters: list[str],
    jobs: dict[str, Job],
    published_text: str = "",
    at_chance: str = "",
    title: str | None = None,
    figures: bool = True,
) -> Path:
    """report.html in `out`, from what sweep_report.aggregate built: the job `summary`, the comparison
    `table` and its `legend` (Markdown, as results.md has them), `curves` (curves.csv), the grouping
    keys and swept `parameters`; `published_text` (published.md) and `at_chance` (the Markdown list
    of jobs at chance) where there are any; `figures`: False leaves the figures out (--no-plots)."""
    out = Path(out)
    title = title or f"Sweep {out.parent.name}/{out.name}"  # a multirun's folder is its date/time
    errors = {job: calibration_error(path) for job, path in zip(summary.job, summary.path)}
    body = [
        sections.heading_html(title, summary),
        section("comparison", "Comparison", sections.comparison_html(table, legend)),
        section("published", "Published vs measured", sections.published_html(published_text)),
        section("figures", "Figures", sections.figures_html(summary, curves, group_by) if figures else ""),
        section("problems", "Jobs that are no result", sections.problems_html(summary, at_chance)),
        section("jobs", "Jobs", jobs_html(summary, parameters, errors, jobs)),
        section("provenance", "Command, versions, machine", provenance_html(out, summary, jobs)),
    ]
    shown = "".join(body)
    anchors = [a for a in ("comparison", "published", "figures", "problems", "jobs", "provenance") if f'id="{a}"' in shown]  # sections with something to say
    nav = "<nav>" + "".join(f'<a href="#{a}">{a}</a>' for a in anchors) + "</nav>\n"
    page = (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n<meta name=viewport content='width=device-width, initial-scale=1'>\n"
        # An empty icon: without one a browser asks for /favicon.ico, a request the page must not make.
        "<link rel=icon href='data:,'>\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n" + body[0] + nav + "".join(body[1:]) + f"<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )
    path = out / REPORT_HTML
    path.write_text(page, encoding="utf-8")
    return path


def jobs_html(summary: pd.DataFrame, parameters: list[str], errors: dict[str, float], jobs: dict[str, Job]) -> str:
    blocks = [job_block(row, jobs[row.path], parameters, errors[row.job], pictures=k < PICTURED_JOBS) for k, (_, row) in enumerate(summary.iterrows())]
    note = f"<p class=muted>confusion matrices and figures of the first {PICTURED_JOBS} jobs only: they are in each job's evaluation/ folder</p>" if len(blocks) > PICTURED_JOBS else ""
    return overview(summary, parameters, errors) + note + "".join(blocks)
