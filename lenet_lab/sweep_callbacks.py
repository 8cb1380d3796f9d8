"""Hydra callbacks around a multirun: check every job's config first, tables last, the best trial.

Jobs that fail record it in their metrics.json and return (see run.py), so the sweep always
reaches its end; the failures are reported there, and run.py exits non-zero.
"""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException, HydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from lenet_lab import job_folder
from lenet_lab.config import launcher, overrides
from lenet_lab.config.schema import check_seed
from lenet_lab.errors import UserError, one_line
from lenet_lab.reports.sweep_report import aggregate
from lenet_lab.training import stop_signals

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
DISTINCT_SWEEPER = "hydra_plugins.lenet_lab_sweeper.distinct_sweeper.DistinctSweeper"  # what `basic` means here
ROW_SWEEPER = "hydra_plugins.lenet_lab_rows.row_sweeper.RowSweeper"  # sweeps/*.yaml

# Sweeps that ended with jobs that did not complete: run.py exits 1 once every callback has run
# (exiting here would skip the callbacks after this one, e.g. the search's best trial).
incomplete_sweeps: list[Path] = []


def basic_sweep_jobs(config: DictConfig) -> list[list[str]]:
    """The override lists of the jobs the basic sweeper will launch (others choose theirs as they go)."""
    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()]
    arguments += OmegaConf.to_container(config.hydra.overrides.task)
    if config.hydra.sweeper._target_ == ROW_SWEEPER:
        from hydra_plugins.lenet_lab_rows.row_sweeper import row_jobs

        rows = OmegaConf.to_container(config.hydra.sweeper.rows, resolve=True)
        return row_jobs(rows, config.hydra.sweeper.get("select"), arguments)
    return overrides.expand(arguments)


# How the values of overrides.BUILD_INDEPENDENT keys are checked, every job's.
CHECKED_ALONE = {"seed": check_seed}


def distinct_builds(jobs: list[list[str]]) -> list[tuple[int, list[str]]]:
    """(job number, overrides) of the jobs whose configs must be built to be checked: one per
    configuration once BUILD_INDEPENDENT keys are set aside, whose values are checked here, for all.
    A 1,000-job seed sweep builds one model before its first job, not 1,000."""
    for number, job in enumerate(jobs):
        for line in job:
            if (check := CHECKED_ALONE.get(overrides.key(line))) is not None:
                try:
                    check(overrides.value(line))
                except UserError as error:
                    print(f"error: job {number} ({' '.join(job)}): {error}", file=sys.stderr)
                    sys.exit(2)
    return overrides.distinct_configurations(jobs)


# The sweep this process runs, until its tables are written: a Ctrl-C or SIGTERM ends Hydra's multirun
# before its end callbacks run, and run.py then writes the tables of the jobs that exist (end_stopped_sweep).
unfinished_sweeps: list[tuple[AggregateSweep, DictConfig]] = []


class AggregateSweep(Callback):
    def __init__(self, plots: bool = True, validate_first: bool = True, metric: str | None = None, baseline: str | None = None):
        self.plots = plots
        self.validate_first = validate_first
        self.metric = metric  # the metric groups are ranked on (None: val/acc); they are judged on its test counterpart
        self.baseline = baseline  # "optimizer=sgd": every group compared with this one instead of the top-ranked

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        """Hydra checks every job's keys and types before the first starts; this adds the value checks.
        Before them: a stop from now on ends with this sweep's tables; a rerun's damaged job files are named."""
        sweep_dir = Path(config.hydra.sweep.dir)
        unfinished_sweeps.append((self, config))
        stop_signals.sweep_started(sweep_dir, launcher.name(config.hydra))
        try:
            for job in job_folder.find_job_dirs([sweep_dir]) if sweep_dir.is_dir() else []:
                job_folder.check_resumable(job)
        except UserError as error:  # Hydra would turn an exception here into a warning and go on
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        if not self.validate_first or config.hydra.sweeper._target_ not in (BASIC_SWEEPER, DISTINCT_SWEEPER, ROW_SWEEPER):
            return
        from lenet_lab.training.train import build, check_trainer  # Lightning is imported once a sweep really starts

        # Building trainers to check them prints Lightning's "GPU available" lines; the jobs don't.
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
        loader = GlobalHydra.instance().config_loader()
        checked = set()  # data folders and trainer settings are checked once each, not per job
        try:
            jobs = basic_sweep_jobs(config)
        except HydraException as error:  # e.g. hydra.sweeper.select matches no row
            print(f"error: {one_line(error)}", file=sys.stderr)
            sys.exit(2)
        for number, job in distinct_builds(jobs):
            try:
                job_config = loader.load_sweep_config(config, job)
                with read_write(job_config), open_dict(job_config):
                    del job_config["hydra"]  # a job's own config has no hydra node
                datamodule, _ = build(job_config)
                for key, check in ((datamodule.root, datamodule.prepare_data), (str(job_config.trainer), lambda: check_trainer(job_config))):
                    if key not in checked:
                        check()
                        checked.add(key)
            except (UserError, ConfigCompositionException, HydraException) as error:
                print(f"error: job {number} ({' '.join(job)}): {one_line(error)}", file=sys.stderr)
                sys.exit(2)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        stop_signals.tables_started()  # a signal from now on lets the tables finish
        unfinished_sweeps[:] = [pair for pair in unfinished_sweeps if pair[0] is not self]
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            result = aggregate([sweep_dir], out=sweep_dir, plots=self.plots, metric=self.metric, baseline=self.baseline)
        except Exception as error:  # the jobs' own results are safe on disk; say why there is no table
            print(f"aggregation of {sweep_dir} failed: {error}", file=sys.stderr)
            return
        print(f"\n{result['markdown']}\n\nresults: {sweep_dir / 'results.md'}", flush=True)
        if not result["published"].empty:
            print(f"published vs measured: {sweep_dir / 'published.md'}", flush=True)
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


def best_job(sweep_dir: Path, metric: str) -> tuple[Path, float] | None:
    """The completed job with the highest `metric`, or None when no job completed with one."""
    scored = []
    for path in job_folder.find_job_dirs([sweep_dir]):
        metrics = job_folder.read_metrics(path) or {}
        value = metrics.get(metric)
        if metrics.get("status") == "completed" and isinstance(value, (int, float)) and value == value:  # not NaN
            scored.append((value, path))
    if not scored:
        return None
    value, path = max(scored, key=lambda pair: pair[0])
    return path, value


def rerun_command(path: Path) -> str:
    """The job's overrides as one run's command line (without the one that would start the search again)."""
    kept = [o for o in job_folder.recorded_overrides(path) if overrides.key(o) != "hparams_search"]
    return " ".join(["python run.py", *map(shlex.quote, kept)])


class PrintBest(Callback):
    """A hyperparameter search's answer (hparams_search=optuna), printed last: the completed job
    with the highest value of the metric the search maximised, read from the job folders like the
    tables, with a command line that reruns it on its own (to train it longer or on other seeds)."""

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
