"""Sweep tables -> PNG figures a person would rather look at than the CSV."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from lenet_lab import sweep_folder  # noqa: E402
from lenet_lab.reports import statistics  # noqa: E402
from lenet_lab.reports.bands import curve_bands  # noqa: E402
from lenet_lab.reports.figures.png import Pixels, save_png  # noqa: E402


def group_labels(summary: pd.DataFrame, group_by: list[str]) -> pd.Series:
    if not group_by:
        return pd.Series("all jobs", index=summary.index)
    return summary[group_by].astype(str).apply(lambda row: ", ".join(f"{k}={v}" for k, v in row.items()), axis=1)


def curves_figure(summary: pd.DataFrame, curves: pd.DataFrame, labels: pd.Series) -> plt.Figure | None:
    """Validation accuracy and training loss against epoch: one line per group, the mean over its
    jobs, in a band of its 95% interval over seeds (Student's t per epoch; no band for one seed)."""
    panels = [("val/acc", "validation accuracy (%)", 100), ("train/loss", "training loss", 1)]
    panels = [p for p in panels if (curves.tag == p[0]).any()]
    if not panels:
        return None
    group_of = dict(zip(summary.job, labels))
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for ax, (tag, title, scale) in zip(axes[0], panels):
        for group, rows in curve_bands(curves, group_of, tag).groupby("group", sort=False):
            epochs = rows.epoch.astype(int)
            (line,) = ax.plot(epochs, rows["mean"] * scale, marker="o", markersize=3, label=group)
            if rows["low"].notna().any():
                low, high = rows["low"] * scale, rows["high"] * scale
                if tag == "train/loss":  # a log axis: an interval reaching below 0 is cut, not drawn as a hole
                    low = low.clip(lower=(rows["mean"] * scale).min() / 10)
                ax.fill_between(epochs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(title)
        ax.set_title(title + " by epoch (mean, 95% CI over seeds)", fontsize=10)
        ax.grid(alpha=0.3)
        if tag == "train/loss":
            ax.set_yscale("log")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig: plt.Figure | None, path: Path) -> Pixels | None:
    return None if fig is None else save_png(fig, path, dpi=120)


def bars_figure(summary: pd.DataFrame, labels: pd.Series, column: str, ylabel: str, scale: float) -> plt.Figure | None:
    """A bar per group: mean over its completed jobs, error bar its 95% confidence interval over seeds
    (Student's t; none for a group of one job)."""
    done = summary.status == "completed"
    groups = (summary[done][column] * scale).groupby(labels[done], sort=False)
    described = {group: statistics.describe(values) for group, values in groups}
    stats = pd.DataFrame({"mean": {g: d.mean for g, d in described.items()}, "half": {g: d.half_width for g, d in described.items()}}).sort_values("mean")
    if stats.empty or stats["mean"].isna().all():
        return None
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(stats) + 2), 4.5))
    bars = ax.bar(range(len(stats)), stats["mean"], yerr=stats["half"].fillna(0), capsize=4, color="tab:blue", alpha=0.8)
    # Values inside the bars, where the error bars can't cover them.
    labels = [f"{m:.2f}" if scale == 100 else f"{m:.0f}" for m in stats["mean"]]
    ax.bar_label(bars, labels=labels, label_type="center", color="white", fontsize=8, fontweight="bold")
    ax.set_xticks(range(len(stats)), stats.index, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel} by group (mean and 95% CI over seeds)", fontsize=10)
    if scale == 100:  # accuracies live near the top: start where the differences show
        low = stats["mean"].min() - 1.5 * stats["half"].fillna(0).max() - 1
        ax.set_ylim(max(0, low), 100)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_sweep(summary: pd.DataFrame, curves: pd.DataFrame, group_by: list[str], out: Path) -> dict[str, Pixels]:
    """curves.png, test_acc.png and train_time.png in `out`; their pixels by file name (those drawn)."""
    labels = group_labels(summary, group_by)
    drawn = {
        sweep_folder.CURVES_PNG: save(curves_figure(summary, curves, labels), out / sweep_folder.CURVES_PNG),
        sweep_folder.TEST_ACC_PNG: save(bars_figure(summary, labels, "test/acc", "test accuracy (%)", 100), out / sweep_folder.TEST_ACC_PNG),
        sweep_folder.TRAIN_TIME_PNG: save(bars_figure(summary, labels, "train_time_s", "training time (s)", 1), out / sweep_folder.TRAIN_TIME_PNG),
    }
    return {name: pixels for name, pixels in drawn.items() if pixels is not None}
