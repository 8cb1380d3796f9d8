"""Published vs measured: the rows of a sweep file (sweeps/*.yaml) beside what their jobs measured.

Pure functions over job folders. A job of a sweep file records its row in its config
(`sweep.row`), and the row's overrides and published numbers in `.hydra/hydra.yaml`
(`hydra.sweeper.rows`), so the comparison can be rebuilt from the folders alone, any time.

Published numbers are in the write-ups' units: accuracy and error (`train/err`, `test/err`: 100 -
accuracy) in %, anything else (seconds, loss) as is. Measured numbers are converted to the same
units. A job run with overrides beyond its row's (`epochs=1`, `++trainer.limit_train_batches=50`)
is marked as changed: its number is not the published experiment's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lenet_lab.config import overrides
from lenet_lab.evaluation.job_evaluation import read_confusion
from lenet_lab.metrics import TRAIN_EVAL_ACC, is_percentage
from lenet_lab.reports import statistics
from lenet_lab.reports.jobs import Job
from lenet_lab.reports.markdown import markdown_table

ROW = "sweep.row"
SWEEP = "sweep"
# Overrides that say which row a job is, or that only redraw its random numbers: not changes.
NOT_CHANGES = ("sweep", "sweep.row", "seed")
# Changes that cut training short: such a row is labelled "shortened", any other change "changed".
SHORTENING = ("epochs", "trainer.max_epochs", "trainer.max_steps", "trainer.max_time", "trainer.limit_train_batches")


def change_label(changed: str) -> str:
    keys = {overrides.key(c) for c in changed.split()}
    return "shortened" if keys & set(SHORTENING) else "changed"


def unit_label(metric: str) -> str:
    return f"{metric} %" if is_percentage(metric) else metric


def sweep_record(hydra: dict) -> dict:
    """The sweep file's rows and reference as a job's `hydra:` record (Job.hydra) keeps them ({} if none)."""
    sweeper = hydra.get("sweeper") or {}
    return {"reference": sweeper.get("reference", ""), "rows": sweeper.get("rows") or {}} if sweeper.get("rows") else {}


def changes(recorded: list[str], row_overrides: list[str]) -> list[str]:
    """The job's overrides (`recorded`) that its row doesn't have and that change the experiment."""
    return [
        override
        for override in recorded
        if overrides.is_parameter(override) and overrides.key(override) not in NOT_CHANGES and not any(overrides.same(override, own) for own in row_overrides)
    ]


def measured(summary: pd.DataFrame, metric: str) -> pd.Series:
    """The metric in published units, per job: err = 100 - acc in %, acc in %, others as logged.

    A training accuracy or error is the one measured after the last pass with the weights fixed
    where the job measured it (data.train_eval_every_epoch, as the 1998 paper measures its
    training error), else the running one of the last epoch."""
    source = metric[: -len("/err")] + "/acc" if metric.endswith("/err") else metric
    if source not in summary:
        return pd.Series(float("nan"), index=summary.index)
    values = summary[source]
    if source == "train/acc" and TRAIN_EVAL_ACC in summary:
        values = summary[TRAIN_EVAL_ACC].fillna(values)
    if metric.endswith("/err"):
        return 100 * (1 - values)
    return 100 * values if is_percentage(metric) else values


INTERVAL_COLUMNS = ("interval_low", "interval_high", "interval", "published_inside")


def measured_interval(done: pd.DataFrame, metric: str, values: pd.Series, published: float) -> dict:
    """The 95% interval one run of this setup falls in, and whether the published number does.

    A published number is one run, so with two or more seeds it is the prediction interval for one
    new run (mean ± t * s * sqrt(1 + 1/n)), not the narrower interval of our mean; with one job, for
    a test accuracy or error, the Wilson interval of its test-set count (the only uncertainty one
    seed shows); else none."""
    summary = statistics.describe(values)
    low, high = statistics.prediction_interval(values)
    kind = f"prediction, t over {summary.n} seeds" if summary.n >= 2 else ""
    if summary.n == 1 and metric.startswith("test/") and is_percentage(metric):
        total = test_images(done["path"].iloc[0])
        if total:
            accuracy = measured(done, "test/acc").iloc[0] / 100
            acc_low, acc_high = statistics.accuracy_interval(round(accuracy * total), total)
            low, high = (100 * acc_low, 100 * acc_high) if metric.endswith("/acc") else (100 * (1 - acc_high), 100 * (1 - acc_low))
            kind = f"Wilson, {total} test images"
    inside = "" if not kind else ("yes" if low <= published <= high else "no")
    return {"interval_low": low, "interval_high": high, "interval": kind, "published_inside": inside}


def test_images(job_path: str) -> int:
    """How many test images the job was tested on (its confusion matrix's total), 0 if unknown."""
    try:
        return int(read_confusion(job_path).sum())
    except (OSError, ValueError):
        return 0


def published_table(summary: pd.DataFrame, jobs_by_path: dict[str, Job], extra_keys: list[str] | None = None) -> pd.DataFrame:
    """One line per (sweep, row, extra keys, published metric): published, measured mean and std
    over the completed jobs, their difference, n, jobs not completed, and changes from the row.
    `jobs_by_path`: the summary's jobs as read (their overrides and Hydra records). Empty when no
    job is a row of a sweep file."""
    columns = [SWEEP, "row", *(extra_keys or []), "metric", "published", "measured", "measured_std", *INTERVAL_COLUMNS, "difference", "n", "not_completed", "changed"]
    if ROW not in summary or summary[ROW].isna().all():
        return pd.DataFrame(columns=columns)
    jobs = summary[summary[ROW].notna()].copy()
    if SWEEP not in jobs:
        jobs[SWEEP] = ""
    records = {}  # one sweep's jobs share its record: the first job's is read
    for path in jobs["path"]:
        if Path(path).parent not in records:
            records[Path(path).parent] = sweep_record(jobs_by_path[path].hydra)
    def row_spec(path: str, name: str) -> dict:
        return ((records.get(Path(path).parent) or {}).get("rows") or {}).get(name) or {}

    # Jobs of a row run as published and jobs of it run shortened are never averaged together.
    jobs["changed"] = [" ".join(changes(jobs_by_path[path].overrides, list(row_spec(path, name).get("overrides") or []))) for path, name in zip(jobs["path"], jobs[ROW])]
    lines = []
    keys = [SWEEP, ROW, *(extra_keys or []), "changed"]
    for group, rows in jobs.groupby(keys, sort=False, dropna=False):
        group = dict(zip(keys, group))
        row = row_spec(rows["path"].iloc[0], group[ROW])
        done = rows[rows.status == "completed"]
        for metric, value in (row.get("published") or {}).items():
            values = measured(done, metric)
            mean = values.mean() if len(values) else float("nan")
            lines.append({
                SWEEP: group[SWEEP], "row": group[ROW], **{k: group[k] for k in extra_keys or []},
                "metric": unit_label(metric), "published": float(value), "measured": mean,
                "measured_std": values.std() if len(values) > 1 else float("nan"),
                **measured_interval(done, metric, values, float(value)),
                "difference": mean - float(value), "n": len(done), "not_completed": len(rows) - len(done),
                "changed": group["changed"],
            })  # fmt: skip
    table = pd.DataFrame(lines, columns=columns)
    # In the sweep file's order of rows (the write-up's), not the order the folders sort in.
    positions = {}
    for path, sweep in zip(jobs["path"], jobs[SWEEP]):
        for i, name in enumerate((records.get(Path(path).parent) or {}).get("rows") or {}):
            positions.setdefault((sweep, name), i)
    table["position"] = [positions.get(key, len(positions)) for key in zip(table[SWEEP], table["row"])]
    return table.sort_values([SWEEP, "position"], kind="stable").drop(columns="position").reset_index(drop=True)


def number(value: float, metric: str, signed: bool = False) -> str:
    if pd.isna(value):
        return "-"
    digits = (3 if "err" in metric else 2) if "%" in metric else (4 if "loss" in metric else 1)  # errors go down to 0.002%
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def published_markdown(table: pd.DataFrame, references: list[str], job_files: dict[str, list[str]] | None = None) -> str:
    """The published-vs-measured table, one line per row, and what makes a row not comparable."""
    if table.empty:
        return ""
    extra = [c for c in table.columns if c not in (SWEEP, "row", "metric", "published", "measured", "measured_std", *INTERVAL_COLUMNS, "difference", "n", "not_completed", "changed")]
    keys = [SWEEP, "row", *extra] if table[SWEEP].nunique() > 1 else ["row", *extra]
    wide, changed, notes = [], {}, []
    for group, lines in table.groupby([*keys, "changed"], sort=False, dropna=False):  # a row run two ways: two lines
        line = dict(zip(keys, group))
        first = lines.iloc[0]
        if first["changed"]:
            line["row"] = f"{line['row']} ({change_label(first['changed'])})"
            changed.setdefault(first["changed"], []).append(str(first["row"]))
        if first["not_completed"]:
            notes.append(f"- `{first['row']}`: {first['not_completed']} job(s) did not complete (see results.md).")
        for item in lines.itertuples():
            line[f"{item.metric} published"] = number(item.published, item.metric)
            shown = number(item.measured, item.metric)
            interval = "" if pd.isna(item.interval_low) else f" [{number(item.interval_low, item.metric)}, {number(item.interval_high, item.metric)}]"
            line[f"{item.metric} measured"] = shown + interval
            line[f"{item.metric} Δ"] = number(item.difference, item.metric, signed=True)
            line[f"{item.metric} inside"] = item.published_inside or "-"
        line["n"] = first["n"]
        wide.append(line)
    text = "# Published vs measured\n\n" + "".join(f"Published: {ref}.\n" for ref in references if ref)
    text += "\nMeasured: mean of the completed jobs [the 95% interval one run falls in: with several seeds the prediction "
    text += "interval for one new run, mean ± t·s·√(1 + 1/n), since a published number is one run; with one seed the Wilson "
    text += "interval of its test-set count]; inside: whether the published number lies in that interval; "
    text += "Δ = measured - published. Accuracy and error in %."
    if table["metric"].str.startswith("train/").any():
        text += " Training accuracy and error: after the last pass with the weights fixed where a job measured it"
        text += " (`data.train_eval_every_epoch`), else the running one of its last epoch."
    text += "\n\n" + markdown_table(pd.DataFrame(wide).astype(object).fillna("")) + "\n"
    for changed_overrides, rows in changed.items():
        label = change_label(changed_overrides).upper()
        notes.insert(0, f"- {label}: {', '.join(f'`{r}`' for r in rows)} ran with `{changed_overrides}` beyond the sweep file: not the published setup; not comparable to the published numbers.")
    if notes:
        text += "\n" + "\n".join(notes) + "\n"
    if job_files:
        text += "\n## Files of each job\n\n" + "".join(f"- `{job}`: " + ", ".join(f"[{f}]({job}/{f})" for f in files) + "\n" for job, files in job_files.items())
    return text
