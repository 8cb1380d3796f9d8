"""One job on the page: its settings, status and final numbers, then, folded, its evaluation and config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lenet_lab import job_folder
from lenet_lab import metrics as metric_names
from lenet_lab.evaluation.calibration import expected_calibration_error
from lenet_lab.evaluation.job_evaluation import read_confusion, read_predictions
from lenet_lab.reports.html.elements import details, escape, frame_table, png
from lenet_lab.reports.jobs import Job

SHOWN_METRICS = (*metric_names.FINAL, "best_val/acc", "train_time_s")


def calibration_error(job_dir: str | Path) -> float:
    """The job's expected calibration error from its saved predictions (NaN without them)."""
    saved = read_predictions(job_dir)
    if saved is None:
        return float("nan")
    return expected_calibration_error(saved["confidence"].astype(np.float32), saved["label"] == saved["predicted"])


def overview(summary: pd.DataFrame, parameters: list[str], errors: dict[str, float]) -> str:
    """Every job in one sortable table: settings, status, final numbers (accuracies in %), calibration error."""
    shown = summary[["job", *[p for p in parameters if p in summary], "status"]].copy()
    numbers = []
    for metric in SHOWN_METRICS:
        if metric in summary and summary[metric].notna().any():
            label = f"{metric} %" if metric_names.is_accuracy(metric) else metric
            shown[label] = [metric_names.number(metric, v) for v in summary[metric]]
            numbers.append(label)
    shown["ECE %"] = ["-" if np.isnan(errors.get(job, np.nan)) else f"{100 * errors[job]:.2f}" for job in summary.job]
    return frame_table(shown, numbers=[*numbers, "ECE %"])


def confusion_html(matrix: np.ndarray) -> str:
    """The confusion matrix as a table, each cell shaded by its share of the true class (the PNG's
    square-root-like scale): a few KB of text instead of a picture."""
    rows = matrix.sum(1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0) ** 0.3
    head = "<tr><th>true \\ predicted</th>" + "".join(f"<th>{c}</th>" for c in range(len(matrix))) + "</tr>"
    body = []
    for i, row in enumerate(matrix):
        cells = "".join(f'<td style="background:rgba(31,119,180,{shares[i, j]:.2f}){";color:#fff" if shares[i, j] > 0.7 else ""}">{count or ""}</td>' for j, count in enumerate(row))
        body.append(f"<tr><th>{i}</th>{cells}</tr>")
    return f'<table class="confusion"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>\n'


def job_block(row: pd.Series, job: Job, parameters: list[str], error: float, pictures: bool = True) -> str:
    """A folded block per job: what it ran with and ended as; inside, its evaluation (the confusion
    matrix and figures only with `pictures`) and config."""
    path = Path(row["path"])
    settings = ", ".join(f"{p}={row[p]}" for p in parameters if p in row and not _missing(row[p]))
    headline = f"<code>{escape(row['job'])}</code> <span class=status-{escape(row['status'])}>{escape(row['status'])}</span>"
    if not _missing(row.get("test/acc")):
        headline += f" test {metric_names.shown('test/acc', row['test/acc'])}"
    parts = [f"<p>overrides: <code>{escape(' '.join(job.overrides) or '(none)')}</code><br>settings: {escape(settings or '-')}</p>"]
    if row.get("error"):
        parts.append(f"<p>error: <code>{escape(row['error'])}</code></p>")
    final = job.metrics if row["status"] != "running" else {}  # metrics.json as read; none while running
    if final:
        values = [f"{v:.6g}" if isinstance(v, float) else str(v) for v in final.values()]
        parts.append(frame_table(pd.DataFrame({"metrics.json": list(final), "value": values}), css_class="plain"))
    evaluation = job_folder.evaluation_dir(path)
    if pictures and (evaluation / job_folder.CONFUSION_CSV).is_file():
        parts.append("<h4>confusion matrix (row: true digit, column: predicted)</h4>" + confusion_html(read_confusion(path)))
    if not np.isnan(error):
        parts.append(f"<p>expected calibration error {100 * error:.2f}%</p>")
    for name, alt in (("reliability", "reliability diagram"), ("misclassified", "misclassified test digits")):
        if pictures and (figure := job_folder.evaluation_figure(path, name)).is_file():
            parts.append(f"<figure>{png(figure, alt)}</figure>")
    config = job_folder.config_file(path)
    if config.is_file():
        parts.append(details("full config (.hydra/config.yaml)", f"<pre>{escape(config.read_text())}</pre>"))
    return details(headline, "\n".join(parts), css_class="job")


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value))
