"""The figures of a sweep file's sweep, written next to its tables (and into TensorBoard).

    published.png        published vs measured, one panel per published metric (e.g. test
                         accuracy by optimizer, training time by model)
    row_curves.png       loss, training and validation accuracy by epoch, one line per row
    row_errors.png       training / validation error by epoch and the final test error, log scale
    train_images.png     random training images with their labels
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from lenet_lab import sweep_folder
from lenet_lab.errors import DataError
from lenet_lab.job_folder import cwd_in
from lenet_lab.reports.figures.png import Pixels
from lenet_lab.reports.figures.published import plot_published, plot_row_curves, plot_row_errors
from lenet_lab.reports.figures.tensorboard import write_figure_events
from lenet_lab.reports.figures.training_images import plot_training_images
from lenet_lab.reports.jobs import Job
from lenet_lab.reports.published import ROW


def data_root(jobs: list[Job]) -> Path | None:
    """The data folder the jobs trained on. Their configs record it unresolved
    (`${oc.env:LENET_LAB_DATA,data}`): resolved here, a relative path from where the sweep ran."""
    for job in jobs:
        if (root := job.setting("data.root")) is None:
            continue
        try:
            root = Path(str(OmegaConf.create({"root": root}).root))
        except Exception:  # an interpolation that can't be resolved outside the job
            continue
        cwd = cwd_in(job.hydra)
        return root if root.is_absolute() or cwd is None else Path(cwd) / root
    return None


def sweep_figures(jobs: list[Job], summary: pd.DataFrame, curves: pd.DataFrame, published: pd.DataFrame, out: Path, drawn: dict[str, Pixels]) -> list[str]:
    """The write-ups' figures in `out`, and all of them (with the sweep's own, `drawn`) into TensorBoard;
    the names of those written here."""
    # Lines in the sweep file's order of rows, as the published table has them.
    position = {row: i for i, row in enumerate(dict.fromkeys(published.row))}
    job_rows = dict(sorted(zip(summary.job, summary[ROW]), key=lambda item: position.get(item[1], len(position))))
    written = {
        sweep_folder.PUBLISHED_PNG: plot_published(published, out / sweep_folder.PUBLISHED_PNG),
        sweep_folder.ROW_CURVES_PNG: plot_row_curves(curves, job_rows, out / sweep_folder.ROW_CURVES_PNG),
        sweep_folder.ROW_ERRORS_PNG: plot_row_errors(curves, job_rows, out / sweep_folder.ROW_ERRORS_PNG),
    }
    root = data_root(jobs)
    try:
        written[sweep_folder.TRAIN_IMAGES_PNG] = plot_training_images(root, out / sweep_folder.TRAIN_IMAGES_PNG) if root else None
    except DataError as error:  # the data moved since the sweep ran: the other figures still stand
        warnings.warn(f"no training-image grid: {error}", stacklevel=2)
    written = {name: pixels for name, pixels in written.items() if pixels is not None}
    write_figure_events({**written, **drawn}, out)
    return list(written)
