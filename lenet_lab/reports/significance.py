"""Every group of a comparison against the best one: the difference, its interval, a p-value, a verdict.

The comparison table (lenet_lab.reports.tables.compare) is sorted best first on the primary
metric. Groups with several seeds are compared by t-tests over their seeds; groups of one job each
by McNemar's exact test on the test images, where both jobs saved their predictions and the
metric is test accuracy. All p-values
of one table are Holm-corrected together (lenet_lab.reports.statistics).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from lenet_lab.reports import statistics

COLUMNS = ("vs_best diff", "vs_best ci95 low", "vs_best ci95 high", "vs_best test", "vs_best p", "vs_best p_holm", "verdict")
BEST = "best"
# The saved predictions are of the test images: McNemar's test speaks for this metric only.
PREDICTED_METRIC = "test/acc"
NO_TEST = "one seed each: no test"  # single jobs without saved predictions


def by_seed(rows: pd.DataFrame, metric: str) -> dict:
    """{seed: value} of a group's completed jobs; jobs without a seed column count as seeds of their own."""
    seeds = rows["seed"] if "seed" in rows else pd.Series(range(len(rows)), index=rows.index).map(lambda i: f"job{i}")
    return dict(zip(seeds.astype(str), rows[metric].astype(float)))


def against_best(
    comparison: pd.DataFrame,
    members: list[pd.DataFrame],
    metric: str,
    correct_of: Callable[[str], np.ndarray | None] | None = None,
) -> pd.DataFrame:
    """`comparison` (best first) with COLUMNS added; `members[i]` holds the completed jobs of row i.

    `correct_of(job_path)` gives a job's right/wrong per test image (None when it saved none)."""
    table = comparison.copy()
    lines = [dict.fromkeys(COLUMNS, math.nan) for _ in range(len(table))]
    if len(table) == 0:
        return table.assign(**{c: [] for c in COLUMNS})
    best = members[0]
    best_seeds = by_seed(best, metric)
    # The best job's right/wrong per image, read once for all the single jobs compared with it.
    paired_images = len(best) == 1 and correct_of is not None and metric == PREDICTED_METRIC
    theirs = correct_of(best["path"].iloc[0]) if paired_images else None
    results: list[statistics.Comparison | None] = [None] * len(table)
    for i in range(1, len(table)):
        rows = members[i]
        if len(rows) == 0 or len(best) == 0:
            continue
        result = None
        if len(rows) == 1 and theirs is not None:
            ours = correct_of(rows["path"].iloc[0])
            if ours is not None and len(ours) == len(theirs):
                result = statistics.mcnemar(ours, theirs)
        results[i] = result or statistics.compare_seeds(by_seed(rows, metric), best_seeds)
    # Only the comparisons that may get a verdict are the family Holm's correction counts.
    adjusted = statistics.holm([r.p if r is not None and statistics.judgeable(r) else math.nan for r in results])
    for i, result in enumerate(results):
        if i == 0:
            lines[i]["verdict"] = BEST
            continue
        if result is None:
            lines[i]["verdict"] = ""
            continue
        lines[i].update({
            "vs_best diff": result.difference, "vs_best ci95 low": result.low, "vs_best ci95 high": result.high,
            "vs_best test": result.test, "vs_best p": result.p, "vs_best p_holm": adjusted[i],
        })  # fmt: skip
        if not result.test:
            lines[i]["verdict"] = NO_TEST if result.n_a == 1 and result.n_b == 1 else statistics.TOO_FEW
        else:
            lines[i]["verdict"] = statistics.verdict(result, adjusted[i])
    for column in COLUMNS:
        table[column] = [line[column] for line in lines]
    table["vs_best test"] = table["vs_best test"].astype(object).fillna("")
    return table
