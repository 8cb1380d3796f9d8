"""Hydra callback around a multirun: check every job's config first, aggregate the results last.

Jobs that fail record it in their metrics.json and return (see run.py), so the sweep always
reaches its end; the failures are reported there, and run.py exits non-zero.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException, HydraException
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from lenet_lab.aggregate import aggregate
from lenet_lab.errors import UserError, one_line

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
ROW_SWEEPER = "hydra_plugins.lenet_lab_rows.row_sweeper.RowSweeper"  # sweeps/*.yaml
NOT_A_RESULT = ("failed", "interrupted", "running", "unknown")  # statuses that make the sweep exit non-zero

# Sweeps that ended with jobs that did not complete: run.py exits 1 once every callback has run
# (exiting here would skip the callbacks after this one, e.g. the search's best trial).
incomplete_sweeps: list[Path] = []


def basic_sweep_jobs(config: DictConfig) -> list[list[str]]:
    """The override lists of the jobs the basic sweeper will launch (others choose theirs as they go)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()]
    arguments += OmegaConf.to_container(config.hydra.overrides.task)
    if config.hydra.sweeper._target_ == ROW_SWEEPER:
        from hydra_plugins.lenet_lab_rows.row_sweeper import row_jobs

        rows = OmegaConf.to_container(config.hydra.sweeper.rows, resolve=True)
        return row_jobs(rows, config.hydra.sweeper.get("select"), arguments)
    overrides = OverridesParser.create().parse_overrides(arguments)
    return [job for batch in BasicSweeper.split_arguments(overrides, None) for job in batch]


class AggregateSweep(Callback):
    def __init__(self, plots: bool = True, validate_first: bool = True):
        self.plots = plots
        self.validate_first = validate_first

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        """Hydra checks every job's keys and types before the first starts; this adds the value checks."""
        if not self.validate_first or config.hydra.sweeper._target_ not in (BASIC_SWEEPER, ROW_SWEEPER):
            return
        from lenet_lab.train import build, check_trainer  # Lightning is imported once a sweep really starts

        # Building trainers to check them prints Lightning's "GPU available" lines; the jobs don't.
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
        loader = GlobalHydra.instance().config_loader()
        checked = set()  # data folders and trainer settings are checked once each, not per job
        try:
            jobs = basic_sweep_jobs(config)
        except HydraException as error:  # e.g. hydra.sweeper.select matches no row
            print(f"error: {one_line(error)}", file=sys.stderr)
            sys.exit(2)
        for number, overrides in enumerate(jobs):
            try:
                job_config = loader.load_sweep_config(config, overrides)
                with read_write(job_config), open_dict(job_config):
                    del job_config["hydra"]  # a job's own config has no hydra node
                datamodule, _ = build(job_config)
                for key, check in ((datamodule.root, datamodule.prepare_data), (str(job_config.trainer), lambda: check_trainer(job_config))):
                    if key not in checked:
                        check()
                        checked.add(key)
            except (UserError, ConfigCompositionException, HydraException) as error:
                print(f"error: job {number} ({' '.join(overrides)}): {one_line(error)}", file=sys.stderr)
                sys.exit(2)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            result = aggregate([sweep_dir], out=sweep_dir, plots=self.plots)
        except Exception as error:  # the jobs' own results are safe on disk; say why there is no table
            print(f"aggregation of {sweep_dir} failed: {error}", file=sys.stderr)
            return
        print(f"\n{result['markdown']}\n\nresults: {sweep_dir / 'results.md'}", flush=True)
        if not result["published"].empty:
            print(f"published vs measured: {sweep_dir / 'published.md'}", flush=True)
        summary = result["summary"]
        for row in summary[summary.status == "diverged"].itertuples():  # a result, but one to notice
            print(f"job {row.job}: diverged {row.error}".rstrip(), file=sys.stderr)
        failed = summary[summary.status.isin(NOT_A_RESULT)]
        if len(failed):
            for row in failed.itertuples():
                print(f"job {row.job}: {row.status} {row.error}".rstrip(), file=sys.stderr)
            print(f"{len(failed)} of {len(summary)} jobs did not complete", file=sys.stderr)
            incomplete_sweeps.append(sweep_dir)
