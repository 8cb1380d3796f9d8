"""A sweep's job folders -> results.csv, comparison.csv, curves.csv, results.md (and published.*,
figures) in one folder: what `python -m lenet_lab.aggregate` and the end of every multirun write.

Reads job folders only (lenet_lab.job_folder), so a sweep's tables can be rebuilt any time.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from lenet_lab import sweep_folder
from lenet_lab.evaluation.job_evaluation import correct_per_image
from lenet_lab.job_folder import extra_files, find_job_dirs
from lenet_lab.reports.jobs import load_job
from lenet_lab.reports.published import ROW, SWEEP, published_markdown, published_table, sweep_record
from lenet_lab.reports.tables import (
    AT_CHANCE_NOTE,
    DEFAULT_METRICS,
    at_chance_markdown,
    compare,
    comparison_markdown,
    curves_table,
    default_group_by,
    jobs_markdown,
    judged_metric,
    legend,
    parameter_columns,
    summarize,
)


def aggregate(
    paths: list[str | Path],
    out: str | Path | None = None,
    metrics: list[str] | None = None,
    group_by: list[str] | None = None,
    formats: tuple[str, ...] = ("csv", "md", "html"),
    plots: bool = True,
    metric: str | None = None,
    baseline: str | None = None,
) -> dict:
    """Read every job under `paths`, write the tables (and figures) into `out`; return the tables.

    `metric`: what groups are ranked on and the reference is chosen on (default val/acc, never a
    test metric); every group is judged on its test counterpart (test/acc) against that reference,
    or against the group `baseline` names ("optimizer=sgd") when given."""
    paths = [Path(p) for p in paths]
    for path in paths:  # one table of a tune_then_test sweep's trials and final jobs would rank trials beside tested jobs
        plan = next(iter(sorted(path.rglob(sweep_folder.TUNE_THEN_TEST_PLAN))), None) if path.is_dir() else None
        if plan is not None:
            tuned = plan.parent
            raise ValueError(
                f"{tuned} is a tune_then_test sweep, whose trials and final jobs are never compared in one table: aggregate "
                f"{tuned / sweep_folder.FINAL_DIR} (the tuned groups over seeds) or {tuned / sweep_folder.TUNING_DIR} (the trials)"
            )
    out = Path(out) if out else Path(os.path.commonpath([p.resolve() for p in paths]))
    job_dirs = find_job_dirs(paths)
    if not job_dirs:
        raise FileNotFoundError(f"no job folders (with .hydra/config.yaml or metrics.json) under {', '.join(map(str, paths))}")
    common = Path(os.path.commonpath([p.resolve() for p in paths]))
    jobs = [load_job(path, root=common if common != path else common.parent) for path in job_dirs]
    for job in jobs:
        for problem in job.warnings:
            warnings.warn(f"{job.name}: {problem}", stacklevel=2)

    metrics = list(metrics or DEFAULT_METRICS)
    primary = metric or "val/acc"
    judge_on = judged_metric(primary)  # ValueError for a test metric: the test set never chooses
    for needed in dict.fromkeys((judge_on, primary)):
        if needed not in metrics:
            metrics.insert(0, needed)
    parameters = parameter_columns(jobs)
    for job in jobs:  # a key another sweep varied: this job's value came from its config (read only then)
        for key in parameters:
            if key not in job.params and (value := job.setting(key)) is not None:
                job.params[key] = value
    summary = summarize(jobs)
    for column in parameters:  # a key set in some sweeps only has gaps: keep its integers integers (seed 1, not 1.0)
        values = summary[column].dropna()
        if len(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() for v in values):
            summary[column] = summary[column].astype("Int64")
    numeric = [c for c in summary.columns if c not in parameters and pd.api.types.is_numeric_dtype(summary[c])]
    unknown = [m for m in metrics if m not in numeric]
    if unknown:
        raise ValueError(f"unknown or non-numeric metric(s) {', '.join(unknown)}; choose from {', '.join(numeric)}")
    if group_by is None:
        group_by = default_group_by(summary, parameters)
    missing = [key for key in group_by if key not in summary.columns]
    if missing:
        raise ValueError(f"unknown group-by key(s) {', '.join(missing)}; the swept parameters are {', '.join(parameters) or 'none'}")
    comparison = compare(summary, group_by, metrics, primary, correct_per_image, baseline, parameters)
    curves = curves_table(jobs)
    table = comparison_markdown(comparison, group_by, metrics, primary)

    out.mkdir(parents=True, exist_ok=True)
    if "csv" in formats:
        summary.to_csv(out / sweep_folder.RESULTS_CSV, index=False)
        comparison.to_csv(out / sweep_folder.COMPARISON_CSV, index=False)
        curves.to_csv(out / sweep_folder.CURVES_CSV, index=False)
    if "md" in formats:
        failed = summary[summary.status != "completed"]
        notes = "".join(f"- `{row.job}`: {row.status} {row.error}".rstrip() + "\n" for row in failed.itertuples())
        untrained = at_chance_markdown(summary, judge_on)
        (out / sweep_folder.RESULTS_MD).write_text(
            f"# Comparison ({len(jobs)} jobs)\n\n{legend(primary, judge_on, baseline)}\n\n{table}\n\n"
            + (f"## Jobs at chance\n\n{AT_CHANCE_NOTE}\n\n{untrained}\n" if untrained else "")
            + (f"## Jobs not completed\n\n{notes}\n" if notes else "")
            + f"## Jobs\n\n{jobs_markdown(summary, parameters)}\n"
        )
    jobs_by_path = {str(job.path): job for job in jobs}
    published = published_table(summary, jobs_by_path, [k for k in group_by if k not in (SWEEP, ROW)])
    if not published.empty:
        references = list(dict.fromkeys(sweep_record(job.hydra).get("reference", "") for job in jobs if job.params.get(ROW)))
        files = {job.name: extra for job in jobs if (extra := extra_files(job.path))}
        published_text = published_markdown(published, references, files)
        if "csv" in formats:
            published.to_csv(out / sweep_folder.PUBLISHED_CSV, index=False)
        if "md" in formats:
            (out / sweep_folder.PUBLISHED_MD).write_text(published_text)
    if plots:
        from lenet_lab.reports.figures.sweep import plot_sweep

        drawn = plot_sweep(summary, curves, group_by, out)
        if not published.empty:
            from lenet_lab.reports.figures.rows import sweep_figures

            sweep_figures(jobs, summary, curves, published, out, drawn)
    if "html" in formats:  # report.html: the tables above, the figures and every job on one self-contained page
        from lenet_lab.reports.html.report import write_html_report

        untrained = at_chance_markdown(summary, judge_on)
        write_html_report(
            out, summary, table, legend(primary, judge_on, baseline), curves, group_by, parameters, jobs_by_path,
            published_text=published_text if not published.empty else "", at_chance=f"{AT_CHANCE_NOTE}\n\n{untrained}" if untrained else "", figures=plots,
        )
    if "tex" in formats:  # results.tex: the comparison as a booktabs table for a paper
        from lenet_lab.reports.latex import write_latex_table

        write_latex_table(out, comparison, group_by, metrics, legend(primary, judge_on, baseline))
    return {"summary": summary, "comparison": comparison, "curves": curves, "markdown": table, "published": published, "out": out, "metric": primary}
