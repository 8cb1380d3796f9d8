"""Curves over seeds -> per group and epoch: mean and 95% Student's t interval, for bands around a mean curve.

The same convention as the comparison table's intervals (t with n - 1 degrees of freedom over a
group's seeds, none for one seed), computed for every epoch at once: a sweep's curves have
thousands of points, and one vectorised scipy call is what keeps the figures quick.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95


def curve_bands(curves: pd.DataFrame, group_of: dict[str, str], tag: str) -> pd.DataFrame:
    """`curves` (curves.csv: job, tag, epoch, value) -> one row per (group, epoch) of `tag`:
    n (jobs that logged that epoch), mean, low, high. A job's last value of an epoch counts
    (a resumed job may have logged an epoch twice). low/high are NaN where n < 2; groups keep
    the order of `group_of`."""
    data = curves[(curves.tag == tag) & curves.epoch.notna() & curves.job.isin(group_of.keys())]
    data = data.drop_duplicates(["job", "epoch"], keep="last").assign(group=lambda d: d.job.map(group_of))
    grouped = data.groupby(["group", "epoch"], sort=False).value
    table = grouped.agg(n="count", mean="mean", std="std").reset_index()
    sem = table["std"] / np.sqrt(table["n"])
    with np.errstate(invalid="ignore"):  # n = 1: no degrees of freedom, NaN on purpose
        half = stats.t.ppf((1 + LEVEL) / 2, table["n"] - 1) * sem
    half = half.where(table["n"] > 1)
    table["low"], table["high"] = table["mean"] - half, table["mean"] + half
    order = {group: k for k, group in enumerate(dict.fromkeys(group_of.values()))}
    table = table.sort_values(["group", "epoch"], key=lambda column: column.map(order) if column.name == "group" else column, kind="stable")
    return table.drop(columns="std").reset_index(drop=True)
