"""Hydra callback for a hyperparameter search (hparams_search=optuna): the best trial, printed last.

The best trial is read from the job folders, like the tables: the completed job with the highest
value of the metric the search maximised. It is printed with its overrides as a command line that
reruns it on its own, so the search's answer can be trained longer or on other seeds.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from lenet_lab.jobs import find_job_dirs
from lenet_lab.results import read_metrics


def best_job(sweep_dir: Path, metric: str) -> tuple[Path, float] | None:
    """The completed job with the highest `metric`, or None when no job completed with one."""
    scored = []
    for path in find_job_dirs([sweep_dir]):
        metrics = read_metrics(path) or {}
        value = metrics.get(metric)
        if metrics.get("status") == "completed" and isinstance(value, (int, float)) and value == value:  # not NaN
            scored.append((value, path))
    if not scored:
        return None
    value, path = max(scored, key=lambda pair: pair[0])
    return path, value


def rerun_command(path: Path) -> str:
    """The job's overrides as one run's command line (without the one that would start the search again)."""
    overrides = yaml.safe_load((path / ".hydra" / "overrides.yaml").read_text()) or []
    kept = [str(o) for o in overrides if not str(o).lstrip("+~").startswith("hparams_search=")]
    return " ".join(["python run.py", *map(shlex.quote, kept)])


class PrintBest(Callback):
    def __init__(self, metric: str = "val/acc"):
        self.metric = metric

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        best = best_job(sweep_dir, self.metric)
        if best is None:
            print(f"best trial: none completed with {self.metric}", flush=True)
            return
        path, value = best
        print(f"best trial: {self.metric} {value:.4f} in {path}\n  {rerun_command(path)}", flush=True)
