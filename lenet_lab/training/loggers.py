"""The job's loggers from the `logger` node: a dict of Lightning loggers keyed by name (conf/logger/),
so that `logger=[tensorboard,mlflow]` composes two. Each gets the same epochs from Lightning; at the
end each gets the job's config or params in the form it has (TensorBoard's HParams, the CSV
logger's hparams.yaml, MLflow's params and status).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch.loggers import CSVLogger, Logger, MLFlowLogger, TensorBoardLogger
from omegaconf import DictConfig

from lenet_lab.errors import UserError, one_line
from lenet_lab.training import mlflow_run
from lenet_lab.training.hparams import flatten, run_labels, write_hparams


def build_loggers(cfg: DictConfig, job_dir: Path) -> list[Logger]:
    loggers = []
    tags = list(cfg.get("tags") or [])
    for name, node in (cfg.get("logger") or {}).items():
        if not node:  # logger.csv=null drops one
            continue
        if mlflow_run.is_mlflow(node):
            kwargs = mlflow_run.logger_kwargs(cfg, node, job_dir, tags)
        else:
            kwargs = {"save_dir": str(job_dir)}
        try:
            loggers.append(instantiate(node, **kwargs))
        except InstantiationException as error:
            raise UserError(f"bad logger.{name}: {one_line(error.__cause__ or error)}") from error
    return loggers


def start(loggers: list[Logger], job_dir: Path) -> None:
    """What a logger should know before the first epoch (MLflow: the run's params)."""
    for logger in loggers:
        if isinstance(logger, MLFlowLogger):
            mlflow_run.start(logger, job_dir)


def publish(loggers: list[Logger], job_dir: Path, config: dict, metrics: dict, metric_tags: list[str]) -> None:
    """The job's end, to every logger that keeps it. metrics.json is already written: a logger that
    fails here (a tracking server gone) is a warning, not a failed job."""
    for logger in loggers:
        try:
            if isinstance(logger, TensorBoardLogger):
                if metrics["status"] == "completed":
                    write_hparams(logger.experiment, config, metric_tags, run_labels())
            elif isinstance(logger, CSVLogger):
                logger.log_hyperparams({**flatten(run_labels()), **flatten(config)})
                logger.save()
            elif isinstance(logger, MLFlowLogger):
                mlflow_run.finish(logger, job_dir, metrics)
        except Exception as error:
            print(f"warning: {type(logger).__name__} of {job_dir}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)


def tensorboard_writer(loggers: list[Logger]):
    """The SummaryWriter of the job's TensorBoard logger (for images), or None without one."""
    return next((logger.experiment for logger in loggers if isinstance(logger, TensorBoardLogger)), None)
