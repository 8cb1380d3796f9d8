"""True and predicted labels -> confusion matrix -> per-class precision, recall and F1, all torchmetrics'.

Pure functions on arrays and tables, no files: `lenet_lab.evaluation.job_evaluation` writes them into a job
folder and reads them back (`read_confusion`, `read_report`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torchmetrics.functional.classification import multiclass_confusion_matrix, multiclass_f1_score, multiclass_precision, multiclass_recall

SCORES = {"precision": multiclass_precision, "recall": multiclass_recall, "f1": multiclass_f1_score}


def _tensors(labels, predictions) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(np.asarray(predictions, dtype=np.int64).ravel()), torch.as_tensor(np.asarray(labels, dtype=np.int64).ravel())


def confusion_matrix(labels, predictions, num_classes: int = 10) -> np.ndarray:
    """int64 [num_classes, num_classes]: row = true class, column = predicted class."""
    predicted, target = _tensors(labels, predictions)
    return multiclass_confusion_matrix(predicted, target, num_classes).numpy().astype(np.int64)


def classification_report(labels, predictions, num_classes: int = 10) -> pd.DataFrame:
    """One row per class (precision, recall, F1, support), then "macro avg" and "weighted avg"
    rows, as scikit-learn's report has them. A class never predicted has precision 0, not NaN
    (torchmetrics' zero_division); torchmetrics' macro average leaves out a class that is neither
    present nor predicted, where scikit-learn would average in its zeros."""
    predicted, target = _tensors(labels, predictions)
    support = torch.bincount(target, minlength=num_classes).numpy()
    columns = {name: score(predicted, target, num_classes, average="none").numpy().astype(np.float64) for name, score in SCORES.items()}
    report = pd.DataFrame({"class": [str(c) for c in range(num_classes)], **columns, "support": support.astype(np.int64)})
    averages = pd.DataFrame(
        {
            "class": ["macro avg", "weighted avg"],
            **{name: [float(score(predicted, target, num_classes, average=way)) for way in ("macro", "weighted")] for name, score in SCORES.items()},
            "support": [int(support.sum())] * 2,
        }
    )
    return pd.concat([report, averages], ignore_index=True)


def accuracy(matrix: np.ndarray) -> float:
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else float("nan")


def format_report(report: pd.DataFrame, matrix: np.ndarray) -> str:
    """The report as a text table, percentages, ending with the accuracy."""
    shown = report.copy()
    for column in ("precision", "recall", "f1"):
        shown[column] = shown[column].map(lambda v: f"{100 * v:6.2f}%")
    return shown.to_string(index=False) + f"\naccuracy {100 * accuracy(matrix):.2f}% of {int(matrix.sum())}"


def confusion_table(matrix: np.ndarray) -> pd.DataFrame:
    """The matrix with labelled rows (true) and columns (predicted), as written to CSV."""
    classes = [str(c) for c in range(len(matrix))]
    return pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="predicted"))
