"""Figures of one model's test predictions: confusion matrix, reliability diagram, grids of digits, t-SNE maps.

Each `*_figure` function takes arrays and returns a matplotlib Figure (to save with
`save_figure`, or to `render` once for both a file and TensorBoard); each `draw_*` function draws into an
Axes the caller owns, for figures that put several jobs side by side.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import PowerNorm  # noqa: E402
from PIL import Image  # noqa: E402

CORRECT, WRONG = "tab:green", "tab:red"


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 120) -> None:
    write_png(render(fig, dpi), path)


def render(fig: plt.Figure, dpi: int = 120) -> np.ndarray:
    """The figure's pixels, [H, W, 3] uint8, drawn once, and the figure closed: one drawing for
    both the PNG file and TensorBoard (`add_figure` would draw it again)."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return pixels


def write_png(pixels: np.ndarray, path: str | Path) -> None:
    # Light compression: every job of a sweep writes a few of these as it ends, and zlib's
    # default level costs several times as long for files ~20% smaller.
    Image.fromarray(pixels).save(path, compress_level=1)


def draw_confusion(ax: plt.Axes, matrix: np.ndarray, title: str = "") -> None:
    """Counts in every cell; colour = fraction of the true class (row), on a square-root-like scale
    so that a handful of mistakes stands out next to a diagonal of thousands."""
    matrix = np.asarray(matrix)
    n = len(matrix)
    rows = matrix.sum(1, keepdims=True)
    fractions = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    ax.imshow(fractions, cmap="Blues", norm=PowerNorm(0.3, vmin=0, vmax=1))
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=7 if count < 1000 else 6, color="white" if fractions[i, j] > 0.3 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)


def confusion_figure(matrix: np.ndarray, title: str = "") -> plt.Figure:
    matrix = np.asarray(matrix)
    wrong = int(matrix.sum() - np.trace(matrix))
    fig, ax = plt.subplots(figsize=(5.5, 5))
    draw_confusion(ax, matrix, title or f"confusion matrix: {wrong} of {int(matrix.sum())} test digits wrong")
    fig.tight_layout()
    return fig


def draw_reliability(ax: plt.Axes, table, label: str = "", colour: str | None = None) -> None:
    """A reliability diagram from `calibration.reliability_table`: accuracy against mean confidence
    per bin (empty bins left out), the diagonal where they would be equal; below it, overconfident."""
    shown = table[table["count"] > 0]
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1)
    ax.plot(shown["confidence"], shown["accuracy"], marker="o", markersize=3, label=label or None, color=colour)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (probability of the predicted class)")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)


def reliability_figure(table, error: float) -> plt.Figure:
    """One job's reliability diagram, with how many test digits each bin holds beneath it: most
    sit in the last bin, and the gaps of nearly empty bins mean little."""
    fig, (ax, counts) = plt.subplots(2, 1, figsize=(4.5, 5.5), height_ratios=(3, 1), sharex=True)
    draw_reliability(ax, table)
    ax.set_xlabel("")
    ax.set_title(f"reliability: expected calibration error {100 * error:.2f}%", fontsize=10)
    counts.bar((table["low"] + table["high"]) / 2, table["count"], width=table["high"] - table["low"], color="tab:blue", alpha=0.7)
    counts.set_yscale("symlog")
    counts.set_ylabel("digits")
    counts.set_xlabel("confidence (probability of the predicted class)")
    fig.tight_layout()
    return fig


def mosaic(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """[N, H, W] -> one [rows (H + gap), columns (W + gap)] image, scaled to [0, 1] together;
    gaps and empty cells are 0 (no ink). One imshow instead of N axes: 100 digits in a tenth of
    a second instead of two seconds."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    low, high = float(images.min()), float(images.max())
    scaled = (images - low) / (high - low) if high > low else np.zeros_like(images)
    rows = max(1, -(-n // columns))
    out = np.zeros((rows * (h + gap), columns * (w + gap)), dtype=np.float32)
    for k, image in enumerate(scaled):
        r, c = divmod(k, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return out


def draw_digits(ax: plt.Axes, images: np.ndarray, captions: list[str], colours: list[str], columns: int = 10, title: str = "") -> None:
    """Digits (ink bright, as the model sees them, drawn dark on white) in a grid, a caption above each."""
    images = np.asarray(images)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    if len(images) == 0:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        return
    _, h, w = images.shape
    gap = max(2, h // 3)  # room for the caption
    # Captions sit in the gap above each digit: the mosaic is shifted down by one gap.
    sheet = mosaic(images, columns, gap)
    sheet = np.vstack([np.zeros((gap, sheet.shape[1]), dtype=sheet.dtype), sheet[:-gap]])
    ax.imshow(1 - sheet, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    for k, (caption, colour) in enumerate(zip(captions, colours)):
        r, c = divmod(k, columns)
        ax.text(c * (w + gap) + w / 2, r * (h + gap) + gap * 0.55, caption, ha="center", va="center", fontsize=7, color=colour)


def digit_grid_figure(images: np.ndarray, captions: list[str], colours: list[str] | None = None, columns: int = 10, title: str = "") -> plt.Figure:
    n = len(images)
    rows = max(1, -(-n // columns))
    fig, ax = plt.subplots(figsize=(0.8 * columns + 0.4, 0.95 * rows + 0.6))
    draw_digits(ax, images, captions, colours or ["black"] * n, columns, title)
    fig.tight_layout()
    return fig


def misclassified_figure(images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, total: int, columns: int = 10) -> plt.Figure:
    """Wrong predictions, captioned "true->predicted" (the caller chooses which and in what order)."""
    captions = [f"{t}\u2192{p}" for t, p in zip(labels, predictions)]
    return digit_grid_figure(images, captions, [WRONG] * len(images), columns, f"misclassified test digits (true\u2192predicted): {len(images)} shown of {total} wrong")


def predictions_figure(images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, columns: int = 10) -> plt.Figure:
    """Test digits captioned with the prediction: green if right, red "predicted (true)" if wrong."""
    captions = [f"{p}" if p == t else f"{p} ({t})" for t, p in zip(labels, predictions)]
    colours = [CORRECT if p == t else WRONG for t, p in zip(labels, predictions)]
    return digit_grid_figure(images, captions, colours, columns, "random test digits: prediction (true label if wrong)")


def draw_embedding(ax: plt.Axes, points: np.ndarray, labels: np.ndarray, title: str = "") -> None:
    """2-D points coloured by class, each class's digit written at its median."""
    points, labels = np.asarray(points), np.asarray(labels)
    cmap = plt.get_cmap("tab10")
    size = max(1.0, 12.0 / max(1.0, len(points) / 1000) ** 0.5)  # smaller dots for more points
    for c in np.unique(labels):
        chosen = labels == c
        ax.scatter(points[chosen, 0], points[chosen, 1], s=size, color=cmap(int(c) % 10), alpha=0.7, linewidths=0, label=str(c))
        mx, my = np.median(points[chosen], axis=0)
        ax.text(mx, my, str(c), fontsize=13, fontweight="bold", ha="center", va="center", bbox=dict(boxstyle="circle,pad=0.2", fc="white", alpha=0.7, lw=0))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)


def embeddings_figure(panels: dict[str, np.ndarray], labels: np.ndarray, title: str = "") -> plt.Figure:
    """One t-SNE map per entry of `panels` (title -> [N, 2] points), side by side, same colours."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 5.5), squeeze=False)
    for ax, (name, points) in zip(axes[0], panels.items()):
        draw_embedding(ax, points, labels, name)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), markerscale=4, frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
