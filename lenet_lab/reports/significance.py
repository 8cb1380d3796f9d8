"""Every group of a comparison against one reference group: the difference, its interval, a p-value, a verdict.

The rule (tables.compare chooses the reference; this module judges):
- the reference is the group ranked first on a validation metric, or a baseline the user declared;
  the groups are judged on the test metric, which never chooses anything;
- groups of several jobs are compared by t-tests (paired when their jobs pair up one to one on the
  seed and every other setting that varies inside a group, else Welch's); groups of one job each by
  McNemar's exact test on the test images, where both saved their predictions;
- the p-values are Holm-corrected over the family of *all pairs* of groups when the reference was
  chosen from the data (whichever group the choice falls on, no false verdict slips through more
  often than 5% of tables), over the comparisons with the baseline when the user declared it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lenet_lab.reports import statistics

COLUMNS = ("vs_ref diff", "vs_ref ci95 low", "vs_ref ci95 high", "vs_ref test", "vs_ref p", "vs_ref p_holm", "verdict")
REFERENCE = "reference"
BASELINE = "baseline"
# The saved predictions are of the test images: McNemar's test speaks for this metric only.
PREDICTED_METRIC = "test/acc"
NO_TEST = "one seed each: no test"  # single jobs without saved predictions
NO_RESULT = "no completed job measured it"


@dataclass
class Sample:
    """A group's completed jobs as the tests see them: their values, pairing keys and folders."""

    values: np.ndarray
    keys: list[tuple]
    paths: list[str]


def judge(
    samples: list[Sample],
    reference: int,
    declared: bool = False,
    correct_of: Callable[[str], np.ndarray | None] | None = None,
) -> tuple[list[statistics.Comparison | None], np.ndarray]:
    """Each group against `samples[reference]` (None for the reference itself and for empty groups),
    and each comparison's Holm-adjusted p-value (NaN where no verdict may be given).

    `declared`: the reference is a baseline named before looking, so the family is the k - 1
    comparisons with it; else it was chosen from the data and the family is every pair of groups."""
    correct_cache: dict[str, np.ndarray | None] = {}

    def correct(path: str):
        if path not in correct_cache:
            correct_cache[path] = correct_of(path) if correct_of else None
        return correct_cache[path]

    def mcnemar(i: int, j: int) -> statistics.Comparison | None:
        """Two single jobs on their test images, where both saved what they got right."""
        a, b = samples[i], samples[j]
        if len(a.values) != 1 or len(b.values) != 1 or correct_of is None:
            return None
        ours, theirs = correct(a.paths[0]), correct(b.paths[0])
        return statistics.mcnemar(ours, theirs) if ours is not None and theirs is not None and len(ours) == len(theirs) else None

    def against_reference(i: int) -> statistics.Comparison | None:
        a, b = samples[i], samples[reference]
        if i == reference or len(a.values) == 0 or len(b.values) == 0:
            return None
        return mcnemar(i, reference) or statistics.compare_groups(a.values, b.values, a.keys, b.keys)

    against = [against_reference(i) for i in range(len(samples))]
    if declared:
        family = [(min(i, reference), max(i, reference)) for i in range(len(samples)) if i != reference]
    else:
        family = list(itertools.combinations(range(len(samples)), 2))
    # The pairs without the reference only count in Holm's correction: their p-values, batched.
    others = [(i, j) for i, j in family if reference not in (i, j)]
    designs = {(i, j): statistics.design(samples[i].values, samples[j].values, samples[i].keys, samples[j].keys) for i, j in others if not mcnemar(i, j)}
    batched = dict(zip(designs, statistics.p_values(list(designs.values()))))
    judged = []
    for i, j in family:
        if reference in (i, j):
            result = against[j if i == reference else i]
            judged.append(result.p if result is not None and statistics.judgeable(result) else math.nan)
        elif (i, j) in designs:
            test = designs[(i, j)]
            judged.append(batched[(i, j)] if test.kind and min(len(test.x), len(test.y)) >= statistics.MIN_SEEDS else math.nan)
        else:
            judged.append(mcnemar(i, j).p)
    adjusted_by_pair = dict(zip(family, statistics.holm(judged)))
    adjusted = np.array([math.nan if i == reference else adjusted_by_pair[(min(i, reference), max(i, reference))] for i in range(len(samples))])
    return against, adjusted


def sample_of(rows: pd.DataFrame, metric: str, pair_on: list[str]) -> Sample:
    """A group's rows (completed jobs) as a Sample; each job's key is its values of `pair_on`."""
    rows = rows[rows[metric].notna()]  # a completed job that never measured the metric is no value
    paths = [str(p) for p in rows["path"]]
    # Without settings to pair on, every job is its own key: nothing pairs, Welch's test compares.
    keys = [tuple(str(v) for v in key) for key in rows[pair_on].itertuples(index=False)] if pair_on else [(p,) for p in paths]
    return Sample(rows[metric].astype(float).to_numpy(), keys, paths)


def against_reference(
    comparison: pd.DataFrame,
    members: list[pd.DataFrame],
    metric: str,
    reference: int,
    declared: bool = False,
    pair_on: list[str] | None = None,
    higher_is_better: bool = True,
    correct_of: Callable[[str], np.ndarray | None] | None = None,
) -> pd.DataFrame:
    """`comparison` with COLUMNS added: row i against row `reference` on `metric`; `members[i]`
    holds the completed jobs of row i, `pair_on` the columns that pair jobs across groups."""
    table = comparison.copy()
    if len(table) == 0:
        return table.assign(**{c: [] for c in COLUMNS})
    samples = [sample_of(rows, metric, list(pair_on or [])) for rows in members]
    single_predictions = correct_of if metric == PREDICTED_METRIC else None
    results, adjusted = judge(samples, reference, declared, single_predictions)
    lines = [dict.fromkeys(COLUMNS, math.nan) for _ in range(len(table))]
    for i, result in enumerate(results):
        line = lines[i]
        if i == reference:
            line["verdict"] = BASELINE if declared else REFERENCE
        elif result is None:
            line["verdict"] = NO_RESULT if len(samples[i].values) == 0 else ""
        else:
            line.update({
                "vs_ref diff": result.difference, "vs_ref ci95 low": result.low, "vs_ref ci95 high": result.high,
                "vs_ref test": result.test, "vs_ref p": result.p, "vs_ref p_holm": adjusted[i],
            })  # fmt: skip
            if not result.test:
                line["verdict"] = NO_TEST if result.n_a == 1 and result.n_b == 1 else statistics.TOO_FEW
            else:
                line["verdict"] = statistics.verdict(result, adjusted[i], higher_is_better)
    for column in COLUMNS:
        table[column] = [line[column] for line in lines]
    table["vs_ref test"] = table["vs_ref test"].astype(object).fillna("")
    return table
