"""Job records -> pandas tables: one row per job, groups compared over seeds, Markdown.

Pure functions over `Job`s (lenet_lab.reports.jobs): nothing here reads files or trains.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from lenet_lab import metrics as metric_names
from lenet_lab.reports import statistics
from lenet_lab.reports.events import curves_frame
from lenet_lab.reports.jobs import Job
from lenet_lab.reports.markdown import markdown_table
from lenet_lab.reports.published import ROW, SWEEP
from lenet_lab.reports.ranking import baseline_row, judged_metric, lower_is_better, pairing_columns, reference_row
from lenet_lab.reports.significance import against_reference

DEFAULT_METRICS = ("test/acc", "val/acc", "best_val/acc", "train/acc", "train_time_s")
NOT_GROUPED = ("seed",)  # grouping is over seeds: they become n, mean and std


def final_value(job: Job, tag: str) -> float:
    """The job's own final number, else the last point of its curve (a failed job's partial run)."""
    if job.metrics.get(tag) is not None:
        return float(job.metrics[tag])
    points = job.points(tag)
    return points[-1][1] if points else float("nan")


def summary_row(job: Job) -> dict:
    val = job.points("val/acc")
    best_epoch, best = max(val, key=lambda point: point[1]) if val else (None, float("nan"))  # the first best epoch
    return {
        "job": job.name,
        **job.params,
        "status": job.status,
        # Not "epochs": that column is the `epochs=` override when it was swept.
        "epochs_completed": job.metrics.get("epochs", max((epoch for *_, epoch, _, _ in job.records if epoch is not None), default=0)),
        **{tag: final_value(job, tag) for tag in metric_names.FINAL},
        # The training set measured after the last pass, weights fixed (data.train_eval_every_epoch).
        metric_names.TRAIN_EVAL_ACC: final_value(job, metric_names.TRAIN_EVAL_ACC),
        "best_val/acc": best,
        "best_val/epoch": pd.NA if best_epoch is None else best_epoch,
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
    # One DataFrame from every job's records: one per job and a concat cost seconds at 1,000 jobs.
    curves = curves_frame([record for job in jobs for record in job.records])
    curves.insert(0, "job", [job.name for job in jobs for _ in job.records])
    return curves


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


def compare(
    summary: pd.DataFrame,
    group_by: list[str],
    metrics: list[str],
    rank_on: str | None = None,
    correct_of: Callable[[str], np.ndarray | None] | None = None,
    baseline: str | None = None,
    settings: list[str] | None = None,
) -> pd.DataFrame:
    """The summary grouped by `group_by`: n, failures, and per metric the mean, std, standard error
    and 95% interval over the completed jobs; sorted on `rank_on` (default: the first metric), and
    every group judged on rank_on's test counterpart against the reference (the first in that order
    with enough seeds, or the `baseline` group) by lenet_lab.reports.significance.

    `settings`: the swept parameters; those varying inside groups pair jobs across groups."""
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
    # Keyed as result.index is: by the value itself for one key, by tuples for several.
    members = {group: rows for group, rows in done.groupby(keys if len(keys) > 1 else keys[0], sort=False)}
    empty = done.iloc[0:0]
    measured = {}
    for metric in metrics:
        described = [statistics.describe(members[g][metric]) if g in members else statistics.describe([]) for g in result.index]
        measured[metric] = [d.n for d in described]
        for name, field in (("mean", "mean"), ("std", "std"), ("sem", "sem"), ("ci95 low", "low"), ("ci95 high", "high")):
            result[f"{metric} {name}"] = [getattr(d, field) for d in described]
    rank_on = rank_on or (metrics[0] if metrics else None)
    if rank_on is None:
        return result.reset_index()
    judge_on = judged_metric(rank_on)
    for metric in (rank_on, judge_on):
        if metric not in metrics:
            raise ValueError(f"the metric {metric} must be one of the metrics ({', '.join(metrics)})")
    order = result[f"{rank_on} mean"].sort_values(ascending=lower_is_better(rank_on), na_position="last", kind="stable").index
    position = [result.index.get_loc(g) for g in order]
    result = result.loc[order]
    ordered = [members.get(group, empty) for group in result.index]
    result = result.reset_index()
    if baseline:
        reference = baseline_row(result, keys, baseline)
    else:
        reference = reference_row([measured[rank_on][i] for i in position], [measured[judge_on][i] for i in position])
    pair_on = pairing_columns(done, list(settings or []) + (["seed"] if "seed" in done and "seed" not in (settings or []) else []), keys)
    return against_reference(result, ordered, judge_on, reference, bool(baseline), pair_on, not lower_is_better(judge_on), correct_of)


def format_number(metric: str, mean: float, half_width: float) -> str:
    """mean, or "mean ± half-width", in the metric's unit (accuracies in %)."""
    text = metric_names.number(metric, mean)
    return text if text == "-" or pd.isna(half_width) else f"{text} ± {metric_names.number(metric, half_width)}"


LEGEND = (
    "How to read this table: groups are ranked on their mean {rank_on}, and {reference}; every other group's {judge_on} "
    "is compared with it (Δ = its mean minus the reference's), and a verdict of better or worse needs p < 0.05 after Holm's "
    "correction over {family} and at least 3 seeds on each side. "
    "Values are means ± 95% confidence half-widths over seeds (Student's t); the test is a paired t-test when the jobs "
    "pair up one to one (same seed and every other setting that varies inside a group), else Welch's t-test over all jobs, "
    "and McNemar's exact test on the test images for one job each."
)


def legend(rank_on: str, judge_on: str, baseline: str | None = None) -> str:
    """results.md's rule in words: what ranks, what is the reference, what is judged and how."""
    if baseline:
        reference, family = f"the baseline is the group {baseline}", "the comparisons with the baseline"
    else:
        reference = "the reference is the first group with at least 3 seeds (the test set never chooses it)"
        family = "every pair of groups"
    return LEGEND.format(rank_on=rank_on, judge_on=judge_on, reference=reference, family=family)


def comparison_markdown(comparison: pd.DataFrame, group_by: list[str], metrics: list[str], rank_on: str | None = None) -> str:
    """mean ± 95% CI half-width, n, and each group's Δ and verdict against the reference (in ranking order)."""
    keys = group_by or ["all"]
    rank_on = rank_on or (metrics[0] if metrics else None)
    shown = pd.DataFrame({key: comparison[key] for key in keys})
    for metric in metrics:
        label = f"{metric} %" if metric_names.is_accuracy(metric) else metric
        half = (comparison[f"{metric} ci95 high"] - comparison[f"{metric} ci95 low"]) / 2
        shown[label] = [format_number(metric, m, h) for m, h in zip(comparison[f"{metric} mean"], half)]
    shown["n"] = comparison["n"]
    if comparison["not_completed"].any():
        shown["not completed"] = comparison["not_completed"]
    if rank_on and "verdict" in comparison and len(comparison) > 1:  # one group: nothing to compare
        judge_on = judged_metric(rank_on)
        unit = " %" if metric_names.is_accuracy(judge_on) else ""
        shown[f"Δ {judge_on}{unit}"] = ["" if pd.isna(d) else metric_names.number(judge_on, d, signed=True) for d in comparison["vs_ref diff"]]
        shown["test"] = comparison["vs_ref test"]  # which jobs the verdict rests on: "paired t (6 pairs)"
        shown["verdict"] = comparison["verdict"]
    return markdown_table(shown)


# Ten classes: a network that learned nothing scores 0.10-0.11 (it predicts one digit). 0.2 leaves room
# for a little learning; no trained configuration of this project ends near it.
CHANCE_ACCURACY = 0.2
AT_CHANCE_NOTE = (
    "These seeds completed but never learned (below 20% on 10 classes). Their groups' means and intervals above "
    "average them in with the seeds that trained: read those groups seed by seed."
)


def at_chance_markdown(summary: pd.DataFrame, metric: str) -> str:
    """A line per completed job whose accuracy `metric` is at chance: a seed that never trained.

    Its group's mean and t interval average it in as if it were noise (one such seed of three makes
    an interval like [-55, 193] %), so results.md names it. Empty for a metric that is no accuracy."""
    if not metric_names.is_accuracy(metric) or metric not in summary:
        return ""
    low = summary[(summary.status == "completed") & (summary[metric] < CHANCE_ACCURACY)]
    return "".join(f"- `{job}`: {metric} {metric_names.shown(metric, value)}, at chance\n" for job, value in zip(low.job, low[metric]))


def jobs_markdown(summary: pd.DataFrame, parameters: list[str]) -> str:
    shown = summary[["job", *parameters, "status"]].copy()
    for tag in [*(m for m in metric_names.FINAL if metric_names.is_accuracy(m)), "best_val/acc"]:
        shown[f"{tag} %"] = (100 * summary[tag]).round(2)
    shown["best_val/epoch"] = summary["best_val/epoch"]
    shown["train_time_s"] = summary["train_time_s"].round(1)
    order = summary["test/acc"].fillna(-1).sort_values(ascending=False, kind="stable").index
    return markdown_table(shown.loc[order])
