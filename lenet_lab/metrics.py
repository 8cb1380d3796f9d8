"""The names of a job's final metrics, and how every table and line shows them.

The LightningModule logs `<split>/loss` and `<split>/acc` once per epoch for the splits train,
val and test; metrics.json, the tables, the epoch line and the HParams tab use these names.
Accuracies are fractions in [0, 1] on disk and percentages when shown.
"""

from __future__ import annotations

import math

FINAL = ("train/loss", "train/acc", "val/loss", "val/acc", "test/loss", "test/acc")
# The training set's accuracy after a pass with the weights fixed (data.train_eval_every_epoch),
# beside the running `train/acc` measured while they move: the 1998 paper's training error.
TRAIN_EVAL_ACC = "train_eval/acc"
# What metrics.json records when the job measured it: the final metrics and the training set's after the pass.
RECORDED = (*FINAL, "train_eval/loss", TRAIN_EVAL_ACC)


def is_accuracy(name: str) -> bool:
    return name.endswith("/acc")


def is_percentage(name: str) -> bool:
    """Shown in %: accuracies, and the error rates (`test/err` = 100 - accuracy) write-ups publish."""
    return name.endswith(("/acc", "/err"))


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(name: str, value: float, signed: bool = False) -> str:
    """A metric's value as text in the unit people read it in: accuracies in % with two decimals
    (0.98834 -> "98.83"), losses with four, anything else (seconds, counts) with one; "-" if missing.
    `signed`: a difference, always with its sign ("+0.12")."""
    if missing(value):
        return "-"
    sign = "+" if signed else ""
    if is_accuracy(name):
        return f"{100 * value:{sign}.2f}"
    return f"{value:{sign}.4f}" if name.endswith("loss") else f"{value:{sign}.1f}"


def shown(name: str, value: float) -> str:
    """`number` with its unit: "98.83%" for an accuracy."""
    text = number(name, value)
    return f"{text}%" if is_accuracy(name) and not missing(value) else text


def percent(value: float, digits: int = 2) -> str:
    """A fraction as a percentage: 0.98834 -> "98.83%"; "-" if missing."""
    return "-" if missing(value) else f"{100 * value:.{digits}f}%"
