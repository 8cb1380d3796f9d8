"""A sweep's job folders -> pandas tables -> results.csv, results.md, curves.csv (and figures).

    python -m lenet_lab.aggregate outputs/multirun/2026-11-27/10-00-00
    python -m lenet_lab.aggregate outputs/ --group-by model --metrics test/acc --no-plots

Pure functions over files: nothing here trains, so all of it is testable on hand-written logs.
Also runs by itself at the end of every multirun (see `lenet_lab.sweep_callback`).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import pandas as pd

from lenet_lab.jobs import Job, extra_files, find_job_dirs, load_job, setting
from lenet_lab.markdown import markdown_table
from lenet_lab.published import ROW, SWEEP, published_markdown, published_table, sweep_record

FINAL = ("train/acc", "val/acc", "test/acc", "test/loss")
DEFAULT_METRICS = ("test/acc", "val/acc", "best_val/acc", "train/acc", "train_time_s")
NOT_GROUPED = ("seed",)  # grouping is over seeds: they become n, mean and std


def final_value(job: Job, tag: str) -> float:
    """The job's own final number, else the last point of its curve (a failed job's partial run)."""
    if job.metrics.get(tag) is not None:
        return float(job.metrics[tag])
    curve = job.curves[job.curves.tag == tag]
    return float(curve.value.iloc[-1]) if len(curve) else float("nan")


def summary_row(job: Job) -> dict:
    val = job.curves[job.curves.tag == "val/acc"]
    best = val.loc[val.value.idxmax()] if len(val) else None
    return {
        "job": job.name,
        **job.params,
        "status": job.status,
        # Not "epochs": that column is the `epochs=` override when it was swept.
        "epochs_completed": job.metrics.get("epochs", job.curves.epoch.max() if len(job.curves) else 0),
        **{tag: final_value(job, tag) for tag in FINAL},
        "best_val/acc": float(best.value) if best is not None else float("nan"),
        "best_val/epoch": int(best.epoch) if best is not None and pd.notna(best.epoch) else pd.NA,
        "num_params": job.metrics.get("num_params", pd.NA),
        "train_time_s": job.metrics.get("train_time_s", float("nan")),
        "error": job.metrics.get("error", ""),
        "warnings": "; ".join(job.warnings),
        "path": str(job.path),
    }


def summarize(jobs: list[Job]) -> pd.DataFrame:
    """One row per job: swept parameters, status, final and best accuracies, cost."""
    return pd.DataFrame([summary_row(job) for job in jobs])


def curves_table(jobs: list[Job]) -> pd.DataFrame:
    """One row per (job, tag, step): every logged scalar of every job."""
    frames = [job.curves.assign(job=job.name) for job in jobs if len(job.curves)]
    if not frames:
        return pd.DataFrame(columns=["job", "tag", "step", "epoch", "value", "wall_time"])
    return pd.concat(frames, ignore_index=True)[["job", "tag", "step", "epoch", "value", "wall_time"]]


def parameter_columns(jobs: list[Job]) -> list[str]:
    columns = []
    for job in jobs:
        columns += [key for key in job.params if key not in columns]
    return columns


def default_group_by(summary: pd.DataFrame, parameters: list[str]) -> list[str]:
    """The swept parameters other than seed: those whose value differs between jobs.

    Jobs of a sweep file are grouped by their row (and sweep): a row's own overrides follow from
    it, so only keys that also vary within a row (a command-line sweep over all rows) are added.
    """
    varying = [p for p in parameters if p not in NOT_GROUPED and summary[p].astype(str).nunique(dropna=False) > 1]
    if ROW not in summary or summary[ROW].isna().all():
        return varying
    rows = summary[ROW].astype(str)
    within = [p for p in varying if p not in (SWEEP, ROW) and summary[p].astype(str).groupby(rows).nunique(dropna=False).max() > 1]
    return ([SWEEP] if SWEEP in varying else []) + [ROW] + within


def compare(summary: pd.DataFrame, group_by: list[str], metrics: list[str]) -> pd.DataFrame:
    """The summary grouped by `group_by`: n, failures, and mean/std of each metric over completed jobs."""
    table = summary.copy()
    keys = group_by or ["all"]
    if not group_by:
        table["all"] = "all jobs"
    # A job that didn't set a swept key ran with its default: a group of its own, never dropped.
    table[keys] = table[keys].astype(object).where(table[keys].notna(), "(default)").astype(str)
    done = table[table.status == "completed"]
    total = table.groupby(keys, sort=False).size()
    completed = done.groupby(keys, sort=False).size().reindex(total.index, fill_value=0)
    result = pd.DataFrame({"n": completed, "not_completed": total - completed})
    for metric in metrics:
        stats = done.groupby(keys, sort=False)[metric].agg(["mean", "std"])
        result[f"{metric} mean"] = stats["mean"]
        result[f"{metric} std"] = stats["std"]
    first = metrics[0] if metrics else None
    if first:
        result = result.sort_values(f"{first} mean", ascending=first.endswith("loss"), na_position="last")
    return result.reset_index()


def format_number(metric: str, mean: float, std: float) -> str:
    if pd.isna(mean):
        return "-"
    percent = metric.endswith("/acc")
    scale, digits = (100, 2) if percent else (1, 4 if "loss" in metric else 1)
    text = f"{scale * mean:.{digits}f}"
    return text if pd.isna(std) else f"{text} ± {scale * std:.{digits}f}"


def comparison_markdown(comparison: pd.DataFrame, group_by: list[str], metrics: list[str]) -> str:
    """mean ± std over seeds, accuracies in %, best first (the comparison is already sorted)."""
    keys = group_by or ["all"]
    shown = pd.DataFrame({key: comparison[key] for key in keys})
    for metric in metrics:
        label = f"{metric} %" if metric.endswith("/acc") else metric
        shown[label] = [format_number(metric, m, s) for m, s in zip(comparison[f"{metric} mean"], comparison[f"{metric} std"])]
    shown["n"] = comparison["n"]
    if comparison["not_completed"].any():
        shown["not completed"] = comparison["not_completed"]
    return markdown_table(shown)


def jobs_markdown(summary: pd.DataFrame, parameters: list[str]) -> str:
    shown = summary[["job", *parameters, "status"]].copy()
    for tag in ("train/acc", "val/acc", "test/acc", "best_val/acc"):
        shown[f"{tag} %"] = (100 * summary[tag]).round(2)
    shown["best_val/epoch"] = summary["best_val/epoch"]
    shown["train_time_s"] = summary["train_time_s"].round(1)
    order = summary["test/acc"].fillna(-1).sort_values(ascending=False, kind="stable").index
    return markdown_table(shown.loc[order])


def aggregate(
    paths: list[str | Path],
    out: str | Path | None = None,
    metrics: list[str] | None = None,
    group_by: list[str] | None = None,
    formats: tuple[str, ...] = ("csv", "md"),
    plots: bool = True,
) -> dict:
    """Read every job under `paths`, write the tables (and figures) into `out`; return the tables."""
    paths = [Path(p) for p in paths]
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
    parameters = parameter_columns(jobs)
    for job in jobs:  # a key another sweep varied: this job's value came from its config (read only then)
        for key in parameters:
            if key not in job.params and (value := setting(job.path, key)) is not None:
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
    comparison = compare(summary, group_by, metrics)
    curves = curves_table(jobs)
    table = comparison_markdown(comparison, group_by, metrics)

    out.mkdir(parents=True, exist_ok=True)
    if "csv" in formats:
        summary.to_csv(out / "results.csv", index=False)
        comparison.to_csv(out / "comparison.csv", index=False)
        curves.to_csv(out / "curves.csv", index=False)
    if "md" in formats:
        failed = summary[summary.status != "completed"]
        notes = "".join(f"- `{row.job}`: {row.status} {row.error}".rstrip() + "\n" for row in failed.itertuples())
        (out / "results.md").write_text(
            f"# Comparison ({len(jobs)} jobs, mean ± std over seeds)\n\n{table}\n\n"
            + (f"## Jobs not completed\n\n{notes}\n" if notes else "")
            + f"## Jobs\n\n{jobs_markdown(summary, parameters)}\n"
        )
    published = published_table(summary, [k for k in group_by if k not in (SWEEP, ROW)])
    if not published.empty:
        references = list(dict.fromkeys(sweep_record(job.path).get("reference", "") for job in jobs if job.params.get(ROW)))
        files = {job.name: extra for job in jobs if (extra := extra_files(job.path))}
        published_text = published_markdown(published, references, files)
        if "csv" in formats:
            published.to_csv(out / "published.csv", index=False)
        if "md" in formats:
            (out / "published.md").write_text(published_text)
    if plots:
        from lenet_lab.plots import plot_sweep

        plot_sweep(summary, curves, group_by, out)
        if not published.empty:
            from lenet_lab.sweep_figures import sweep_figures

            sweep_figures(jobs, summary, curves, published, out)
    return {"summary": summary, "comparison": comparison, "curves": curves, "markdown": table, "published": published, "out": out}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lenet_lab.aggregate", description="Aggregate sweeps' logs into comparison tables and figures.")
    parser.add_argument("paths", nargs="+", help="a sweep folder, a job folder, or any folder above many sweeps")
    parser.add_argument("--metrics", nargs="+", help=f"metrics of the comparison (default: {' '.join(DEFAULT_METRICS)})")
    parser.add_argument("--group-by", nargs="*", help="override keys to group by (default: the swept ones except seed)")
    parser.add_argument("--out", help="where to write the tables and figures (default: the PATH itself, or the common parent of several)")
    parser.add_argument("--format", nargs="+", choices=["csv", "md"], default=["csv", "md"], dest="formats")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for path in args.paths:
        if not Path(path).exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
    with warnings.catch_warnings():  # restores the default display when done
        warnings.showwarning = lambda message, *_, **__: print(f"warning: {message}", file=sys.stderr)
        try:
            result = aggregate(args.paths, args.out, args.metrics, args.group_by, tuple(args.formats), plots=not args.no_plots)
        except (FileNotFoundError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print(result["markdown"])
    print(f"\nwritten to {result['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
