"""Hydra callbacks around a multirun: tables at its end, the best trial.

Jobs that fail record it in their metrics.json and return (see run.py), so the sweep always
reaches its end; the failures are reported there, and run.py exits non-zero. Every job is checked
before the first starts by the project's sweepers (hydra_plugins/lenet_lab/sweep_start.py).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from lenet_lab import job_folder, sweep_folder
from lenet_lab.config import launcher, overrides
from lenet_lab.errors import UserError, report
from lenet_lab.launch import joblib_workers
from lenet_lab.reports.jobs import load_job
from lenet_lab.reports.sweep_report import aggregate
from lenet_lab.reports.tables import summarize
from lenet_lab.training import stop_signals

# Sweeps that ended with jobs that did not complete: run.py exits 1 once every callback has run
# (exiting here would skip the callbacks after this one, e.g. the search's best trial).
incomplete_sweeps: list[Path] = []

# The sweep this process runs, until its tables are written: a Ctrl-C or SIGTERM ends Hydra's multirun
# before its end callbacks run, and run.py then writes the tables of the jobs that exist (end_stopped_sweep).
unfinished_sweeps: list[tuple[AggregateSweep, DictConfig]] = []

# Each sweep's jobs as its tables read them (results.csv's rows), by sweep folder: the callbacks that
# run after AggregateSweep's end (the search's best trial: Hydra ends callbacks in reverse order, and
# hparams_search's callback is listed before `aggregate`) work from them instead of reading every job again.
summaries: dict[Path, pd.DataFrame] = {}


class AggregateSweep(Callback):
    def __init__(self, plots: bool = True, metric: str | None = None, baseline: str | None = None):
        self.plots = plots
        self.metric = metric  # the metric groups are ranked on (None: val/acc); they are judged on its test counterpart
        self.baseline = baseline  # "optimizer=sgd": every group compared with this one instead of the top-ranked

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        """Before any job: a stop from now on ends with this sweep's tables; a rerun's damaged job files are named."""
        sweep_dir = Path(config.hydra.sweep.dir)
        unfinished_sweeps.append((self, config))
        launched_by = launcher.name(config.hydra)
        stop_signals.sweep_started(sweep_dir, launched_by)
        if launched_by == "joblib":  # its workers start deaf to the terminal's Ctrl-C: the sweep stops them
            joblib_workers.install()
        try:
            for job in job_folder.find_job_dirs([sweep_dir]) if sweep_dir.is_dir() else []:
                job_folder.check_resumable(job)
        except UserError as error:  # Hydra would turn an exception here into a warning and go on
            sys.exit(report(error))

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        stop_signals.tables_started()  # a signal from now on lets the tables finish
        unfinished_sweeps[:] = [pair for pair in unfinished_sweeps if pair[0] is not self]
        if config.hydra.sweeper.get("own_tables"):  # hparams_search=tune_then_test: its tuned_tables callback compares the final jobs only
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            result = aggregate([sweep_dir], out=sweep_dir, plots=self.plots, metric=self.metric, baseline=self.baseline)
        except Exception as error:  # the jobs' own results are safe on disk; say why there is no table
            print(f"aggregation of {sweep_dir} failed: {error}", file=sys.stderr)
            return
        summaries[sweep_dir] = result["summary"]
        print(f"\n{result['markdown']}\n\nresults: {sweep_folder.results_md(sweep_dir)}", flush=True)
        if not result["published"].empty:
            print(f"published vs measured: {sweep_dir / sweep_folder.PUBLISHED_MD}", flush=True)
        summary = result["summary"]
        for row in summary[summary.status == "diverged"].itertuples():  # a result, but one to notice
            print(f"job {row.job}: diverged {row.error}".rstrip(), file=sys.stderr)
        failed = summary[summary.status.isin(job_folder.NOT_A_RESULT)]
        if len(failed):
            for row in failed.itertuples():
                print(f"job {row.job}: {row.status} {row.error}".rstrip(), file=sys.stderr)
            print(f"{len(failed)} of {len(summary)} jobs did not complete", file=sys.stderr)
            incomplete_sweeps.append(sweep_dir)


def end_stopped_sweep() -> None:
    """A stopped sweep's tables, of the jobs it has (none before its first job: then no tables)."""
    while unfinished_sweeps:
        callback, config = unfinished_sweeps[0]
        if job_folder.find_job_dirs([config.hydra.sweep.dir]):
            callback.on_multirun_end(config)
        else:
            unfinished_sweeps.pop(0)


def best_job(summary: pd.DataFrame, metric: str) -> tuple[Path, float] | None:
    """The completed job (a row of results.csv) with the highest `metric`, or None when no job completed with one."""
    if metric not in summary:
        return None
    values = pd.to_numeric(summary[metric], errors="coerce").where(summary.status == "completed").dropna()
    if values.empty:
        return None
    best = values.idxmax()  # the first of equals, in the sweep's order
    return Path(summary.at[best, "path"]), float(values[best])


def rerun_command(path: Path) -> str:
    """The job's overrides as one run's command line (without the one that would start the search again)."""
    kept = [o for o in job_folder.recorded_overrides(path) if overrides.key(o) != "hparams_search"]
    return " ".join(["python run.py", *map(shlex.quote, kept)])


class PrintBest(Callback):
    """A hyperparameter search's answer (hparams_search=optuna), printed last: the completed job
    with the highest value of the metric the search maximised, from the rows the sweep's tables were
    built from, with a command line that reruns it on its own (to train it longer or on other seeds)."""

    def __init__(self, metric: str = "val/acc"):
        self.metric = metric

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        summary = summaries.pop(sweep_dir, None)
        if summary is None:  # no tables were made (aggregation failed or is not configured): read the jobs' results
            summary = summarize([load_job(path, curves=False) for path in job_folder.find_job_dirs([sweep_dir])])
        best = best_job(summary, self.metric)
        if best is None:
            print(f"best trial: none completed with {self.metric}", flush=True)
            return
        path, value = best
        print(f"best trial: {self.metric} {value:.4f} in {path}\n  {rerun_command(path)}", flush=True)
