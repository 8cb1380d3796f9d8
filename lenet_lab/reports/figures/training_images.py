"""A grid of random training images with their labels, as the Keras LeNet tutorial shows its data."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from lenet_lab.data.idx import load_split  # noqa: E402
from lenet_lab.reports.figures.png import Pixels, save_png  # noqa: E402


def plot_training_images(root: str | Path, path: Path, n: int = 36, seed: int = 0) -> Pixels:
    """`n` training images drawn with `seed` (the same ones every time), raw pixels, label above each."""
    images, labels = load_split(root, train=True)
    picked = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))[:n]
    side = int(n**0.5 + 0.999)
    fig, axes = plt.subplots(side, side, figsize=(1.2 * side, 1.35 * side))
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, picked.tolist()):
        ax.imshow(images[index].numpy(), cmap="gray_r")
        ax.set_title(str(int(labels[index])), fontsize=9)
    fig.suptitle("random training images", fontsize=10)
    # Fixed margins: tight_layout measures every one of the n titles (~1 s of the figure's 1.2 s, measured).
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.9, wspace=0.15, hspace=0.45)
    return save_png(fig, path, dpi=100)
