"""True and predicted labels -> confusion matrix -> per-class precision, recall and F1.

Pure functions on arrays and tables, no files: `lenet_lab.evaluation.job_evaluation` writes them into a job
folder and reads them back (`read_confusion`, `read_report`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONFUSION_CSV = "confusion_matrix.csv"
REPORT_CSV = "classification_report.csv"


def confusion_matrix(labels, predictions, num_classes: int = 10) -> np.ndarray:
    """int64 [num_classes, num_classes]: row = true class, column = predicted class."""
    labels = np.asarray(labels, dtype=np.int64).ravel()
    predictions = np.asarray(predictions, dtype=np.int64).ravel()
    return np.bincount(labels * num_classes + predictions, minlength=num_classes**2).reshape(num_classes, num_classes)


def classification_report(matrix: np.ndarray) -> pd.DataFrame:
    """One row per class (precision, recall, F1, support), then "macro avg" and "weighted avg"
    rows, as scikit-learn's report has them. A class never predicted has precision 0, not NaN."""
    matrix = np.asarray(matrix, dtype=np.float64)
    hits = np.diag(matrix)
    support = matrix.sum(1)  # how many of each class there are
    predicted = matrix.sum(0)  # how often each class was predicted
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    report = pd.DataFrame({"class": [str(c) for c in range(len(hits))], "precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)})
    total = support.sum()
    weights = support / total if total else np.zeros_like(support)
    averages = pd.DataFrame(
        {
            "class": ["macro avg", "weighted avg"],
            "precision": [precision.mean(), precision @ weights],
            "recall": [recall.mean(), recall @ weights],
            "f1": [f1.mean(), f1 @ weights],
            "support": [int(total), int(total)],
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
