"""Bands over seeds on the learning curves: mean and Student's t interval per group and epoch."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from scipy import stats

from lenet_lab.reports.bands import curve_bands
from lenet_lab.reports.figures.sweep import curves_figure


def curves(rows):
    return pd.DataFrame(rows, columns=["job", "tag", "step", "epoch", "value"])


CURVES = curves(
    [
        ("a1", "val/acc", 9, 1, 0.90),
        ("a1", "val/acc", 19, 2, 0.95),
        ("a2", "val/acc", 9, 1, 0.92),
        ("a2", "val/acc", 19, 2, 0.91),  # logged twice: a resumed job's last value counts
        ("a2", "val/acc", 19, 2, 0.96),
        ("a3", "val/acc", 9, 1, 0.94),
        ("b1", "val/acc", 9, 1, 0.50),
        ("b1", "train/loss", 9, 1, 1.0),
    ]
)
GROUPS = {"b1": "model=b", "a1": "model=a", "a2": "model=a", "a3": "model=a"}


def test_bands_are_students_t_per_epoch():
    bands = curve_bands(CURVES, GROUPS, "val/acc").set_index(["group", "epoch"])
    assert list(dict.fromkeys(g for g, _ in bands.index)) == ["model=b", "model=a"]  # the order given
    first = bands.loc[("model=a", 1)]
    low, high = stats.t.interval(0.95, 2, loc=0.92, scale=stats.sem([0.90, 0.92, 0.94]))
    assert first["n"] == 3 and first["mean"] == pytest.approx(0.92)
    assert (first["low"], first["high"]) == pytest.approx((low, high))
    second = bands.loc[("model=a", 2)]
    assert second["n"] == 2 and second["mean"] == pytest.approx(0.955)  # 0.95 and a2's last 0.96
    assert pd.isna(bands.loc[("model=b", 1), "low"])  # one seed: no interval


def test_curves_figure_draws_a_band_where_there_are_seeds():
    summary = pd.DataFrame({"job": list(GROUPS)})
    fig = curves_figure(summary, CURVES, pd.Series(list(GROUPS.values())))
    accuracy, loss = fig.axes
    assert len([c for c in accuracy.collections if isinstance(c, PolyCollection)]) == 1  # model=a's; model=b has one seed
    assert [line.get_label() for line in accuracy.get_lines()] == ["model=b", "model=a"]
    assert not [c for c in loss.collections if isinstance(c, PolyCollection)]
    plt.close(fig)
