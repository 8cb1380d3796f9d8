"""Compare two configurations: is the difference in test accuracy real, or seed noise?

    python -m lenet_lab.compare JOB_A JOB_B
    python -m lenet_lab.compare SWEEP:model=lenet,optimizer=adam SWEEP:model=mlp,optimizer=adam

Each side is a job folder, or a folder of jobs (a sweep, or several) narrowed by `key=value`
selectors after a colon: the jobs whose parameters (overrides, Hydra's choices, config values)
match. Printed: each side's test accuracy with its 95% interval, the difference with its interval,
the test used and why, its p-value, and the classes where the two differ most.

The rules are the comparison tables' (lenet_lab.reports.significance): jobs pair up across the sides
when they share the seed and every other setting that varies inside a side, a paired t-test when
all of them pair, Welch's t-test over all jobs otherwise, and no verdict below 3 jobs a side.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lenet_lab import job_folder, startup  # noqa: F401  (startup: an entry point)
from lenet_lab.config import overrides
from lenet_lab.errors import UserError, command
from lenet_lab.evaluation.job_evaluation import correct_per_image, read_report
from lenet_lab.metrics import percent
from lenet_lab.reports import statistics
from lenet_lab.reports.jobs import Job, load_job
from lenet_lab.reports.ranking import pairing_columns
from lenet_lab.reports.significance import Sample, sample_of

METRIC = "test/acc"
CLASSES_SHOWN = 3


@dataclass
class Side:
    label: str
    jobs: pd.DataFrame  # job, path, test/acc and every parameter: the completed jobs of this side
    selected: tuple[str, ...] = ()  # the selector keys: what the sides compare, never what pairs them


def matches(job: Job, selectors: dict) -> bool:
    """Whether the job's parameters (its overrides, else what it ran with) are the selectors'."""
    return all(str(job.params.get(key, job.setting(key))) == str(value) for key, value in selectors.items())


def select(spec: str) -> Side:
    """`PATH` or `PATH:key=value,key=value` -> the completed jobs it names. UserError if none."""
    path, _, selection = spec.partition(":")
    if not Path(path).exists():
        raise UserError(f"{path} does not exist")
    selectors = {overrides.key(item): overrides.value(item) for item in selection.split(",") if item}
    rows = []
    for job in (load_job(folder, curves=False) for folder in job_folder.find_job_dirs([path])):
        if job.status != "completed" or job.metrics.get(METRIC) is None or not matches(job, selectors):
            continue
        parameters = {**job.params, "seed": job.params.get("seed", job.setting("seed"))}
        rows.append({**parameters, "job": job.name, "path": str(job.path), METRIC: float(job.metrics[METRIC])})
    if not rows:
        raise UserError(f"no completed job with {METRIC} in {spec}")
    return Side(spec, pd.DataFrame(rows), tuple(selectors))


def side_line(side: Side) -> str:
    jobs = side.jobs
    if len(jobs) == 1:
        correct = correct_per_image(jobs.path.iloc[0])
        if correct is not None:
            low, high = statistics.accuracy_interval(int(correct.sum()), len(correct))
            return f"{side.label}: {percent(jobs[METRIC].iloc[0])} [{percent(low)}, {percent(high)}] (1 job; Wilson interval over {len(correct)} test images)"
        return f"{side.label}: {percent(jobs[METRIC].iloc[0])} (1 job; no interval: one seed and no saved predictions)"
    d = statistics.describe(jobs[METRIC])
    return f"{side.label}: {percent(d.mean)} [{percent(d.low)}, {percent(d.high)}] ({d.n} jobs; Student's t)"


def samples(a: Side, b: Side) -> tuple[Sample, Sample]:
    """The two sides as the tables' tests see them, paired on the settings that vary inside a side."""
    both = pd.concat([a.jobs.assign(side="A"), b.jobs.assign(side="B")], ignore_index=True)
    settings = [c for c in both.columns if c not in ("side", "job", "path", METRIC, *a.selected, *b.selected)]
    pair_on = pairing_columns(both, settings, ["side"])
    return sample_of(both[both.side == "A"], METRIC, pair_on), sample_of(both[both.side == "B"], METRIC, pair_on)


def comparison_of(a: Side, b: Side) -> tuple[statistics.Comparison, str]:
    """The test that fits the two sides, and why it was chosen."""
    if len(a.jobs) == 1 and len(b.jobs) == 1:
        right_a, right_b = correct_per_image(a.jobs.path.iloc[0]), correct_per_image(b.jobs.path.iloc[0])
        if right_a is not None and right_b is not None and len(right_a) == len(right_b):
            return statistics.mcnemar(right_a, right_b), "one job each, tested on the same images: McNemar's exact test on the images one gets right and the other wrong"
    ours, theirs = samples(a, b)
    result = statistics.compare_groups(ours.values, theirs.values, ours.keys, theirs.keys)
    if result.test.startswith("paired"):
        why = "every job pairs with one of the other side (same seed and settings): a paired t-test"
    elif result.test:
        why = "the jobs do not pair one to one: Welch's t-test over all of them"
    else:
        why = "too few jobs for a test (one seed on a side and no saved predictions)"
    return result, why


def class_differences(a: Side, b: Side) -> pd.Series:
    """Per-class recall, mean over each side's jobs, a - b, largest differences first."""

    def recall(side: Side) -> pd.Series:
        reports = []
        for path in side.jobs.path:
            try:
                report = read_report(path)
            except OSError:
                continue
            reports.append(report[report["class"].str.isdigit()].set_index("class")["recall"])
        return pd.concat(reports, axis=1).mean(axis=1) if reports else pd.Series(dtype=float)

    difference = (recall(a) - recall(b)).dropna()
    return difference.reindex(difference.abs().sort_values(ascending=False).index)


def report(a: Side, b: Side) -> str:
    result, why = comparison_of(a, b)
    lines = [side_line(a), side_line(b)]
    interval = "" if result.low != result.low else f" [{100 * result.low:+.2f}, {100 * result.high:+.2f}]"
    lines.append(f"difference (A - B): {100 * result.difference:+.2f} points{interval}")
    lines.append(f"test: {result.test or 'none'} ({why})")
    if result.test:
        shown = statistics.format_p(result.p)
        if not statistics.judgeable(result):
            verdict = f"{statistics.TOO_FEW} (fewer than {statistics.MIN_SEEDS} jobs on a side)"
        elif result.p < statistics.ALPHA:
            verdict = f"a real difference, A {'better' if result.difference > 0 else 'worse'}"
        else:
            verdict = "not distinguishable from noise"
        lines.append(f"p {'< ' + shown[1:] if shown.startswith('<') else '= ' + shown}: {verdict} at the 5% level")
    classes = class_differences(a, b).head(CLASSES_SHOWN)
    if len(classes):
        lines.append("classes that differ most (recall, A - B): " + ", ".join(f"{c}: {100 * v:+.2f}" for c, v in classes.items()))
    return "\n".join(lines)


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_lab.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", help="a job folder, or a folder of jobs with selectors: PATH:model=lenet,optimizer=adam")
    parser.add_argument("b", help="the same for the other side")
    args = parser.parse_args(argv)
    a, b = select(args.a), select(args.b)
    print(report(Side("A " + a.label, a.jobs), Side("B " + b.label, b.jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
