"""How far a model's confidence is from its accuracy: expected calibration error and the reliability table.

Top-label calibration: each test image counts with the probability of the class predicted
(`confidence`) and whether that class was right. That is all `predictions.npz` keeps, so any
tested job's calibration can be redone from it; torchmetrics' binary calibration error on
(confidence, correct) is its multiclass one on the full probabilities (tests/test_evaluate.py checks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torchmetrics.functional.classification import binary_calibration_error

BINS = 15  # torchmetrics' default, and the usual choice since Guo et al. 2017


def _tensors(confidence, correct) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(np.asarray(confidence, dtype=np.float32).ravel()), torch.as_tensor(np.asarray(correct, dtype=np.int64).ravel())


def expected_calibration_error(confidence, correct, bins: int = BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by the images in each (torchmetrics)."""
    if len(confidence) == 0:
        return float("nan")
    return float(binary_calibration_error(*_tensors(confidence, correct), n_bins=bins, norm="l1"))


def reliability_table(confidence, correct, bins: int = BINS) -> pd.DataFrame:
    """One row per confidence bin (low, high]: images, mean confidence, accuracy; the bins
    torchmetrics uses for the error above, so the diagram shows the gaps it averages."""
    confidence, correct = _tensors(confidence, correct)
    edges = torch.linspace(0, 1, bins + 1)
    index = (torch.bucketize(confidence, edges, right=True) - 1).clamp(0, bins - 1)  # torchmetrics' binning
    count = torch.bincount(index, minlength=bins).double()
    seen = count.clamp(min=1)
    return pd.DataFrame(
        {
            "low": edges[:-1].double().numpy(),
            "high": edges[1:].double().numpy(),
            "count": count.long().numpy(),
            "confidence": np.where(count > 0, (torch.bincount(index, confidence.double(), minlength=bins) / seen).numpy(), np.nan),
            "accuracy": np.where(count > 0, (torch.bincount(index, correct.double(), minlength=bins) / seen).numpy(), np.nan),
        }
    )
