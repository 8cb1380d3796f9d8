"""One model's test predictions -> the files that show what it gets wrong, in `<job>/evaluation/`
(their names: job_folder.py), and the first three figures in TensorBoard's images:

    confusion_matrix.csv / .png    row = true class, column = predicted class
    classification_report.csv      per-class precision, recall, F1, support; macro and weighted averages
    calibration.csv / reliability.png   confidence bins: digits, mean confidence, accuracy; the expected
                                   calibration error in the figure's title and the printed report
    misclassified.png              the wrong predictions, most confident first, "true->predicted"
    predictions.png                random test digits with their predictions
    predictions.npz                every test image's label, predicted class and confidence, in test-set
                                   order (~50 KB): what `python -m lenet_lab.compare` tests two jobs on

Written for every job when it is tested (`lenet_lab.training.evaluation_writer`), and again on demand
from a job's checkpoint (`python -m lenet_lab.evaluate JOB_DIR`); read back with `read_confusion`
, `read_report` and `read_calibration`, drawn with `lenet_lab.evaluation.figures`. Cheap on purpose: every job of
every sweep pays for it (about a second on a CPU).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lenet_lab.evaluation import figures
from lenet_lab.evaluation.calibration import expected_calibration_error, reliability_table
from lenet_lab.evaluation.classification import accuracy, classification_report, confusion_matrix, confusion_table, format_report
from lenet_lab.job_folder import CALIBRATION_CSV, CONFUSION_CSV, REPORT_CSV, evaluation_dir, evaluation_figure, predictions_file

MAX_SHOWN = 100  # misclassified digits drawn: beyond this a grid is unreadable
RANDOM_SHOWN = 50
GRID_SEED = 0  # the same random digits for every job, so that jobs can be compared side by side


def read_confusion(job_dir: str | Path) -> np.ndarray:
    """A job's confusion matrix (int64 [10, 10], row = true class) from its evaluation."""
    return pd.read_csv(evaluation_dir(job_dir) / CONFUSION_CSV, index_col=0).to_numpy(dtype=np.int64)


def read_report(job_dir: str | Path) -> pd.DataFrame:
    """A job's classification report from its evaluation ("class" is text: "0".."9", "macro avg", "weighted avg")."""
    return pd.read_csv(evaluation_dir(job_dir) / REPORT_CSV, dtype={"class": str})


def read_calibration(job_dir: str | Path) -> pd.DataFrame:
    """A job's reliability table (`calibration.reliability_table`) from its evaluation."""
    return pd.read_csv(evaluation_dir(job_dir) / CALIBRATION_CSV)


def read_predictions(job_dir: str | Path) -> dict[str, np.ndarray] | None:
    """A job's per-image test predictions (label, predicted, confidence), or None if it saved none."""
    path = predictions_file(job_dir)
    if not path.is_file():
        return None
    try:
        with np.load(path) as saved:
            return {name: saved[name] for name in ("label", "predicted", "confidence")}
    except (OSError, ValueError, KeyError):  # a file cut short or of another kind: as if there were none
        return None


def correct_per_image(job_dir: str | Path) -> np.ndarray | None:
    """Whether the job got each test image right, in test-set order, or None without predictions."""
    saved = read_predictions(job_dir)
    return None if saved is None else saved["label"] == saved["predicted"]


def evaluate_predictions(job_dir: str | Path, images: torch.Tensor, labels: torch.Tensor, scores: torch.Tensor, writer=None, step: int = 0) -> dict:
    """Write the evaluation files for test `images` [N, 1, H, W] (as the model saw them), true
    `labels` [N] and the model's `scores` [N, classes] (highest = prediction); log the confusion
    matrix and the mistakes as images to `writer` (a TensorBoard SummaryWriter) if given.

    Returns the confusion matrix, the report table, the accuracy, the expected calibration error, the output folder and the printed text.
    """
    out = evaluation_dir(job_dir)
    out.mkdir(parents=True, exist_ok=True)
    scores = scores.float()
    labels = labels.long().numpy()
    probabilities = torch.softmax(scores, dim=1)
    confidence, predicted = probabilities.max(1)
    predicted = predicted.numpy()
    pictures = images[:, 0].float().numpy()

    matrix = confusion_matrix(labels, predicted, num_classes=scores.shape[1])
    report = classification_report(labels, predicted, num_classes=scores.shape[1])
    right = predicted == labels
    error = expected_calibration_error(confidence.numpy(), right)
    reliability = reliability_table(confidence.numpy(), right)
    reliability.to_csv(out / CALIBRATION_CSV, index=False)
    confusion_table(matrix).to_csv(out / CONFUSION_CSV)
    small = np.uint8 if scores.shape[1] <= 256 else np.int64
    np.savez_compressed(predictions_file(job_dir), label=labels.astype(small), predicted=predicted.astype(small), confidence=confidence.numpy().astype(np.float16))
    report.to_csv(out / REPORT_CSV, index=False)

    drawn = {"confusion_matrix": figures.confusion_figure(matrix), "reliability": figures.reliability_figure(reliability, error)}
    wrong = np.flatnonzero(predicted != labels)
    # Most confident mistakes first: those say most about the model (or about a wrong label).
    wrong = wrong[np.argsort(-confidence.numpy()[wrong], kind="stable")]
    shown = wrong[:MAX_SHOWN]
    drawn["misclassified"] = figures.misclassified_figure(pictures[shown], labels[shown], predicted[shown], total=len(wrong))
    sample = np.random.default_rng(GRID_SEED).permutation(len(labels))[:RANDOM_SHOWN]
    drawn["predictions"] = figures.predictions_figure(pictures[sample], labels[sample], predicted[sample])

    for name, fig in drawn.items():
        pixels = figures.render(fig)
        figures.write_png(pixels, evaluation_figure(job_dir, name))
        if writer is not None and name in ("confusion_matrix", "reliability", "misclassified"):
            writer.add_image(f"test/{name}", pixels, global_step=step, dataformats="HWC")
    text = format_report(report, matrix) + f"\nexpected calibration error {100 * error:.2f}% ({len(reliability)} confidence bins)"
    return {"matrix": matrix, "report": report, "accuracy": accuracy(matrix), "calibration_error": error, "dir": out, "text": text}
