"""Figures of a sweep file's rows: published vs measured bars, and curves by epoch, one line per row.

They cover the write-ups' figures: test accuracy by optimizer and training time by model (bars),
loss / train accuracy / validation accuracy by epoch per model, train and held-out error by epoch.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from lenet_lab.reports.figures.png import Pixels, save_png  # noqa: E402
from lenet_lab.reports.published import change_label  # noqa: E402


def save(fig, path: Path, top: float = 1.0) -> Pixels:
    fig.tight_layout(rect=(0, 0, 1, top))  # top < 1 leaves room for a suptitle
    return save_png(fig, path, dpi=110)


def plot_published(table: pd.DataFrame, path: Path) -> Pixels | None:
    """One panel per published metric: a published and a measured bar for every row.
    Rows run with changes from the sweep file are hatched and labelled so."""
    if table.empty:
        return None
    metrics = list(dict.fromkeys(table.metric))
    # One panel above the other: the rows' names stay readable however many rows and metrics.
    width = max(6, 0.6 * table.row.nunique() + 2)
    fig, axes = plt.subplots(len(metrics), 1, figsize=(width, 3.4 * len(metrics) + 0.6), squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        lines = table[table.metric == metric].reset_index(drop=True)
        x = np.arange(len(lines))
        ax.bar(x - 0.2, lines.published, 0.4, label="published", color="tab:gray")
        hatches = ["//" if c else "" for c in lines.changed]
        bars = ax.bar(x + 0.2, lines.measured.fillna(0), 0.4, label="measured", color="tab:blue", hatch=None)
        for bar, hatch in zip(bars, hatches):
            bar.set_hatch(hatch)
        names = [f"{r}\n({change_label(c)})" if c else str(r) for r, c in zip(lines.row, lines.changed)]
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(metric)
        if "%" in metric and metric.endswith("acc %"):  # accuracies live near the top: start where they differ
            low = np.nanmin(np.r_[lines.published.values, lines.measured.values])
            ax.set_ylim(max(0, low - 3), 100)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle("published vs measured (hatched: shortened or changed, not comparable)", fontsize=10)
    return save(fig, path, top=1 - 0.35 / fig.get_figheight())


def row_means(curves: pd.DataFrame, job_rows: dict[str, str], tag: str) -> dict[str, pd.Series]:
    """tag by epoch, mean over each row's jobs: {row: Series(epoch -> value)}."""
    data = curves[curves.tag == tag].assign(row=lambda d: d.job.map(job_rows)).dropna(subset=["row", "epoch"])
    means = {row: rows.groupby("epoch").value.mean() for row, rows in data.groupby("row", sort=False)}
    return {row: means[row] for row in dict.fromkeys(job_rows.values()) if row in means}  # in job_rows' order


def colours(n: int) -> list:
    """Distinct colours for n lines: matplotlib's 10, or 20 when there are more rows."""
    return list(plt.get_cmap("tab10" if n <= 10 else "tab20").colors)


def plot_row_curves(curves: pd.DataFrame, job_rows: dict[str, str], path: Path) -> Pixels | None:
    """Loss, training and validation (and test) accuracy by epoch, one line per row."""
    # Test accuracy only where it was measured every epoch (data.test_every_epoch), not just once.
    tested = curves[curves.tag == "test/acc"].groupby("job").size().max() > 1 if (curves.tag == "test/acc").any() else False
    candidates = [("train/loss", "training loss"), ("val/loss", "validation loss"), ("train/acc", "training accuracy (%)"), ("val/acc", "validation accuracy (%)")]
    candidates += [("test/acc", "test accuracy (%)")] if tested else []
    panels = [(tag, title) for tag, title in candidates if (curves.tag == tag).any()]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    for ax, (tag, title) in zip(axes[0], panels):
        means = row_means(curves, job_rows, tag)
        for colour, (row, values) in zip(colours(len(means)), means.items()):
            scale = 100 if tag.endswith("/acc") else 1
            ax.plot(values.index.astype(int), values.values * scale, marker="o", markersize=2, color=colour, label=row)
        ax.set_title(title + " by epoch", fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if tag.endswith("/loss"):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    return save(fig, path)


def plot_row_errors(curves: pd.DataFrame, job_rows: dict[str, str], path: Path) -> Pixels | None:
    """Training error (solid), validation error (dashed) by epoch and the final test error (a star),
    in %, log scale, one colour per row. This framework tests once, after the last epoch: the
    held-out curve is the validation split when the sweep has one."""
    train = row_means(curves, job_rows, "train/acc")
    if not train:
        return None
    val, test = row_means(curves, job_rows, "val/acc"), row_means(curves, job_rows, "test/acc")
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for colour, (row, values) in zip(colours(len(train)), train.items()):
        ax.plot(values.index.astype(int), 100 * (1 - values.values), color=colour, label=f"{row} train")
        if row in val:
            ax.plot(val[row].index.astype(int), 100 * (1 - val[row].values), color=colour, linestyle="--", label=f"{row} validation")
        if row in test:  # a curve when the test set was measured every epoch, else one star after the last
            style = {"linestyle": ":"} if len(test[row]) > 1 else {"marker": "*", "markersize": 12, "linestyle": "none"}
            ax.plot(test[row].index.astype(int), 100 * (1 - test[row].values), color=colour, label=f"{row} test", **style)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (%)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("error by epoch: training (solid), validation (dashed), test (dotted, or a star after the last epoch)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    return save(fig, path)
