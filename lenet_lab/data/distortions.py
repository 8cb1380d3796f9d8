"""Random affine distortions of training images, as the 1998 paper trained its 0.8% model.

Each image gets its own horizontal and vertical translation, scaling, squeezing (wider and
shorter, or narrower and taller) and horizontal shearing, applied on the device to whole
batches with one `grid_sample`. Areas moved in from outside the image take the border value,
which is the background.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

TRANSLATE_PIXELS = 2.0
SCALE = 0.1  # x 0.9 .. 1.1
SQUEEZE = 0.1  # width x k, height / k, k in 0.9 .. 1.1
SHEAR = 0.2  # x += 0.2 y at most


def random_affine(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """[N, 1, H, W] -> the same images, each distorted at random (a CPU `generator`, or torch's global one)."""
    n, _, height, width = images.shape

    def uniform(spread: float) -> torch.Tensor:  # drawn on the CPU, so runs are seeded alike on any device
        return ((torch.rand(n, generator=generator) * 2 - 1) * spread).to(images.device)

    scale, squeeze = 1 + uniform(SCALE), 1 + uniform(SQUEEZE)
    shear = uniform(SHEAR)
    # affine_grid maps output to input coordinates in [-1, 1]: the inverse of the distortion.
    theta = torch.zeros(n, 2, 3, device=images.device, dtype=images.dtype)
    theta[:, 0, 0] = 1 / (scale * squeeze)
    theta[:, 0, 1] = -shear
    theta[:, 1, 1] = squeeze / scale
    theta[:, 0, 2] = uniform(TRANSLATE_PIXELS * 2 / width)
    theta[:, 1, 2] = uniform(TRANSLATE_PIXELS * 2 / height)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
