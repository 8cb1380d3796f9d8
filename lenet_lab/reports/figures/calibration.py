"""A sweep's calibration: one reliability curve per group, over the saved test predictions of its completed jobs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: no display on clusters and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lenet_lab.evaluation.calibration import expected_calibration_error, reliability_table  # noqa: E402
from lenet_lab.evaluation.figures import draw_reliability  # noqa: E402
from lenet_lab.evaluation.job_evaluation import read_predictions  # noqa: E402


def reliability_figure(summary: pd.DataFrame, labels: pd.Series) -> plt.Figure | None:
    """Each group's seeds pooled (their test images together); None when no job saved predictions."""
    done = summary.status == "completed"
    fig, ax = plt.subplots(figsize=(6, 5))
    drawn = False
    for group, paths in summary[done].path.groupby(labels[done], sort=False):
        saved = [p for p in map(read_predictions, paths) if p is not None]
        if not saved:
            continue
        confidence = np.concatenate([s["confidence"].astype(np.float32) for s in saved])
        right = np.concatenate([s["label"] == s["predicted"] for s in saved])
        error = expected_calibration_error(confidence, right)
        draw_reliability(ax, reliability_table(confidence, right), f"{group}: ECE {100 * error:.2f}%")
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_title("reliability by group (test predictions of all seeds)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
