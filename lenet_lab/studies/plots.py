"""Plots of a study, as PNGs with Optuna's matplotlib backend: the history, importances, parallel coordinates."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

PLOTS = {
    "optimization_history.png": "plot_optimization_history",
    "param_importances.png": "plot_param_importances",  # fANOVA: needs 2+ completed trials that differ
    "parallel_coordinate.png": "plot_parallel_coordinate",
}


def write_plots(study, folder: str | Path, objective: str = "val/acc") -> list[Path]:
    """Each plot the study's trials allow, into `folder`; one line for each that can't be drawn.
    `objective`: what the trials' values are, for the axes (Optuna says "Objective Value")."""
    import matplotlib

    matplotlib.use("Agg")  # files only, also where there is no display
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as optuna_plots
    from optuna.exceptions import ExperimentalWarning

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, function in PLOTS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)  # the matplotlib backend is "experimental" in every release
                axes = getattr(optuna_plots, function)(study, target_name=objective)
            figure = axes.ravel()[0].figure if hasattr(axes, "ravel") else axes.figure
            figure.tight_layout()
            figure.savefig(folder / name, dpi=100, bbox_inches="tight")  # the history puts its legend outside the axes
            plt.close(figure)
            written.append(folder / name)
        except Exception as error:  # e.g. importances of a study with one completed trial: the search's result stands
            log.warning("no %s for study %s: %s", name, study.study_name, error)
            plt.close("all")
    return written
