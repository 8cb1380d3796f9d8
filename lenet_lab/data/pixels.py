"""How raw MNIST pixels p in [0, 255] become network inputs: x = scale * p / 255 + shift.

`to_inputs` applies it to uint8 digits, for training (the DataModule) and prediction alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lenet_lab.errors import DataError

NORMALIZATIONS = {
    "unit": (1.0, 0.0),  # [0, 1]
    "standard": (1 / 0.3081, -0.1307 / 0.3081),  # MNIST's mean 0.1307 and std 0.3081
    "lecun": (1.275, -0.1),  # 1998 paper: background -0.1, ink 1.175 (mean ~0, variance ~1)
}


def to_inputs(images: torch.Tensor, normalize: str, pad: int) -> torch.Tensor:
    """uint8 [N, 28, 28] -> float [N, 1, 28 + 2 pad, 28 + 2 pad].

    Padding happens on raw pixels, so the border gets the background value of every scaling.
    """
    if normalize not in NORMALIZATIONS:
        raise DataError(f"unknown data.normalize={normalize!r}; choose one of {', '.join(NORMALIZATIONS)}")
    x = images.unsqueeze(1)
    if pad:
        x = F.pad(x, (pad, pad, pad, pad))
    scale, shift = NORMALIZATIONS[normalize]
    return x.float().mul_(scale / 255).add_(shift)
