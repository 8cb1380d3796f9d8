"""What a comparison table ranks on, what it judges on, which group is the reference, and which
jobs pair across groups: the choices the rule in README's "How to read this table" makes.

The test set never chooses: a table ranks on a validation metric and judges on its test counterpart.
"""

from __future__ import annotations

import pandas as pd

from lenet_lab.config import overrides
from lenet_lab.reports import statistics


def judged_metric(rank_on: str) -> str:
    """The test counterpart of a validation metric (val/acc -> test/acc, best_val/acc -> test/acc);
    a metric with none (train_time_s) is judged on itself. The test set never ranks: ValueError."""
    if rank_on.startswith("test/"):
        raise ValueError(f"the test set never chooses: rank on val/{rank_on[len('test/'):]} (groups are then judged on {rank_on})")
    for prefix in ("best_val/", "val/"):
        if rank_on.startswith(prefix):
            return "test/" + rank_on[len(prefix) :]
    return rank_on


def lower_is_better(metric: str) -> bool:
    """Losses, errors, seconds, sizes and epochs count down; accuracies up."""
    return metric.endswith(("loss", "/err", "_s", "/epoch")) or metric in ("num_params", "epochs_completed")


def pairing_columns(table: pd.DataFrame, settings: list[str], keys: list[str]) -> list[str]:
    """The settings that pair jobs across groups: the seed, and every other setting that varies
    inside a group. One that is constant inside each group but differs between groups is part of
    what the groups compare (a sweep row's own overrides), so it never pairs."""
    candidates = [c for c in settings if c not in keys and c in table]
    # Compared as text: a setting may hold a list (tags=[smoke]), which pandas can't hash.
    grouped = table[keys + candidates].astype(str).groupby(keys, sort=False)
    varying = [c for c in candidates if c == "seed" or (grouped[c].nunique(dropna=False) > 1).any()]
    return varying


def baseline_row(groups: pd.DataFrame, keys: list[str], baseline: str) -> int:
    """The position of the group that `baseline` ("optimizer=sgd", "model=lenet,optimizer=sgd") names."""
    wanted = {overrides.key(item): overrides.value(item) for item in baseline.split(",") if item.strip()}
    unknown = [k for k in wanted if k not in keys]
    if unknown:
        raise ValueError(f"baseline {baseline}: {', '.join(unknown)} is not a grouping key ({', '.join(keys)})")
    rows = [dict(zip(keys, values)) for values in groups[keys].astype(str).values.tolist()]
    found = [i for i, row in enumerate(rows) if all(row[k] == str(v) for k, v in wanted.items())]
    if len(found) != 1:
        shown = "; ".join(",".join(f"{k}={v}" for k, v in row.items()) for row in rows)
        raise ValueError(f"baseline {baseline} names {'no group' if not found else 'several groups'}; the groups are {shown}")
    return found[0]


def reference_row(counts: list[int], judged_counts: list[int]) -> int:
    """The first group in ranking order with at least MIN_SEEDS jobs measured on the ranking metric
    (a lucky single seed does not become everyone's yardstick), else the first measured at all;
    without a ranking metric, the first group (in sweep order) with a judged value."""
    for enough in (statistics.MIN_SEEDS, 1):
        for i, n in enumerate(counts):
            if n >= enough:
                return i
    return next((i for i, n in enumerate(judged_counts) if n), 0)
