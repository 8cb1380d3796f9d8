"""A figure to its PNG file, keeping its pixels: TensorBoard gets the figures from memory, not by
reading the files back."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

Pixels = np.ndarray  # height x width x 3, uint8


def save_png(fig: plt.Figure, path: Path, dpi: int) -> Pixels:
    """Write `fig` to `path` at `dpi`, close it, and return its RGB pixels as written."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return pixels
