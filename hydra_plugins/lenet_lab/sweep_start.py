"""Before a sweep's first job: every job checked, at a cost per configuration, and the stores jobs share created.

The project's sweepers call `check_jobs` with the jobs they are about to launch, before any starts:
checked_sweeper.py and row_sweeper.py with every job, search_sweeper.py (and tune_then_test.py) with
what each search's trials share. The one place these checks live. A bad job is a UserError
naming it, which run.py reports as one line and exit code 2; nothing has run and no job folder is made.

- Values that can't change how a config composes (overrides.BUILD_INDEPENDENT: the seed) are
  checked job by job; one job of each remaining configuration is composed and built (model, data
  module, optimizer), its data folder and Trainer settings checked once each: a 1,000-seed sweep
  builds one model before its first job, not 1,000.
- Stores that parallel jobs write into are created here, once: two jobs that find a fresh MLflow
  SQLite file both create its tables, and one of them fails (see training/mlflow_run.py).

Hydra imports this module in every Hydra application of the environment (its plugin scan): torch
and Lightning are imported only once a sweep of this project starts.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import NoReturn

from hydra.errors import ConfigCompositionException, HydraException
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from lenet_lab.config import overrides
from lenet_lab.errors import UserError, one_line

SCHEMA = "lenet_lab.config.schema"


def is_lenet_lab_run(config: DictConfig) -> bool:
    """Whether `config` is run.py's (its root is the project's schema), not another application's."""
    schema = sys.modules.get(SCHEMA)  # a config of that type has it imported already: no torch for other apps
    return schema is not None and OmegaConf.get_type(config) is schema.RunSchema


def stop(error: BaseException, number: int | None = None, job: list[str] | None = None) -> NoReturn:
    """The sweep ends before its first job, with `error` (of job `number`) for run.py to report."""
    where = f"job {number} ({' '.join(job or [])}): " if number is not None else ""
    raise UserError(f"{where}{one_line(error)}") from error


def distinct_builds(jobs: list[list[str]]) -> list[tuple[int, list[str]]]:
    """(job number, overrides) of the jobs whose configs must be built to be checked: one per
    configuration once BUILD_INDEPENDENT keys are set aside, whose values are checked here, for all."""
    from lenet_lab.config.schema import check_seed

    checked_alone = {"seed": check_seed}  # how each BUILD_INDEPENDENT key's value is checked
    for number, job in enumerate(jobs):
        for line in job:
            if (check := checked_alone.get(overrides.key(line))) is not None:
                try:
                    check(overrides.value(line))
                except UserError as error:
                    stop(error, number, job)
    return overrides.distinct_configurations(jobs)


def check_jobs(config: DictConfig, loader, jobs: list[list[str]]) -> None:
    """Every job of the sweep checked as its own run would check it; `loader` is Hydra's config loader."""
    from lenet_lab.training import mlflow_run
    from lenet_lab.training.train import build, check_trainer

    # Building trainers to check them prints Lightning's "GPU available" lines; the jobs don't.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    sweep_dir = Path(config.hydra.sweep.dir)
    done = set()  # data folders, trainer settings and stores are checked once each, not per configuration
    for number, job in distinct_builds(jobs):
        try:
            job_config = loader.load_sweep_config(config, job)
            with read_write(job_config), open_dict(job_config):
                del job_config["hydra"]  # a job's own config has no hydra node
            datamodule, _ = build(job_config)
            once = [(datamodule.root, datamodule.prepare_data), (str(job_config.trainer), lambda: check_trainer(job_config))]
            once += [(store, lambda store=store: mlflow_run.create_store(*store)) for store in mlflow_run.stores(job_config, sweep_dir)]
            for key, check in once:
                if key not in done:
                    check()
                    done.add(key)
        except (UserError, ConfigCompositionException, HydraException) as error:
            stop(error, number, job)
