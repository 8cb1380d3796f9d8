"""train(cfg): config -> objects -> fit, test -> the job's results on disk.

Tests call this directly; `run.py` only adds Hydra's command line and error reporting around it.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import lightning.pytorch as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.utilities.exceptions import MisconfigurationException, SIGTERMException
from omegaconf import DictConfig, OmegaConf

from lenet_lab.config.schema import validate
from lenet_lab.config.threads import threads_per_job
from lenet_lab.errors import UserError, one_line
from lenet_lab.job_folder import CHECKPOINT, FAST_DEV_RUN, FINISHED, PROFILER_NAME, PRUNED, check_checkpoint, read_metrics, record_failed, write_metrics
from lenet_lab.metrics import RECORDED as FINAL_METRICS
from lenet_lab.training import callback_group, stop_signals
from lenet_lab.training import loggers as job_loggers
from lenet_lab.training.atomic_checkpoint import AtomicCheckpointIO
from lenet_lab.training.classifier import Classifier
from lenet_lab.training.cuda_check import drop_nvml_check_without_driver
from lenet_lab.training.curvature_schedule import CurvatureSchedule
from lenet_lab.training.divergence import Diverged, DivergenceGuard
from lenet_lab.training.epoch_line import EpochLine
from lenet_lab.training.evaluation_writer import EvaluationWriter
from lenet_lab.training.pruning import Pruned
from lenet_lab.training.training_clock import TrainingClock


def build_trainer(cfg: DictConfig, job_dir: Path, interactive: bool, label: str, extra_callbacks=()) -> pl.Trainer:
    drop_nvml_check_without_driver()  # without it, every Adam step on a CPU-only machine retries loading NVML
    loggers = job_loggers.build_loggers(cfg, job_dir)
    # At most one checkpoint per job, the last one: a sweep of ResNets must not fill the disk.
    checkpoint = job_dir / CHECKPOINT
    callbacks = [
        ModelCheckpoint(dirpath=checkpoint.parent, filename=checkpoint.stem, save_top_k=1, enable_version_counter=False),
        EvaluationWriter(job_dir, verbose=not label),  # evaluation/ files and TensorBoard images when the job is tested
        CurvatureSchedule(),  # SDLM's curvature estimates; nothing for other optimizers
        *callback_group.build_callbacks(cfg, job_dir),
        *extra_callbacks,
    ]
    if not any(isinstance(cb, DivergenceGuard) for cb in extra_callbacks):  # a caller's own guard replaces it
        callbacks.insert(1, DivergenceGuard())
    progress_bar = cfg.trainer.get("enable_progress_bar")
    progress_bar = interactive if progress_bar is None else progress_bar
    progress_bar = progress_bar or any(isinstance(c, ProgressBar) for c in callbacks)  # callbacks=rich asks for one
    if not progress_bar:
        callbacks.append(EpochLine(label))
    summary = cfg.trainer.get("enable_model_summary")
    profiler = cfg.trainer.get("profiler")
    if isinstance(profiler, DictConfig) and "_target_" in profiler:  # debug=profiler: its report goes into the job folder
        profiler = instantiate(profiler, dirpath=str(job_dir), filename=PROFILER_NAME)
    return instantiate(
        cfg.trainer,
        profiler=profiler,
        logger=loggers or False,
        callbacks=callbacks,
        default_root_dir=str(job_dir),
        enable_progress_bar=progress_bar,
        enable_model_summary=interactive if summary is None else summary,
        plugins=[AtomicCheckpointIO()],  # a kill while a checkpoint is saved leaves the one before
    )


def build_model(node: DictConfig, **arguments) -> torch.nn.Module:
    """The model config (and any constructor `arguments` on top) -> the plain nn.Module.
    `compile` is the run's switch (train() compiles), not a constructor argument."""
    return instantiate(OmegaConf.masked_copy(node, [key for key in node if key != "compile"]), **arguments)


def compile_model(module: Classifier, cfg: DictConfig) -> None:
    """model.compile=true: torch.compile the model in place (nn.Module.compile), so checkpoints keep
    the same parameter names and evaluate/predict load them into an uncompiled model. After the
    input-size check, whose one-image batch would be compiled for nothing."""
    if cfg.model.get("compile"):
        module.model.compile()


def build(cfg: DictConfig) -> tuple[pl.LightningDataModule, Classifier]:
    """Config -> DataModule and LightningModule, seeded. Bad values fail here, before any data is read.

    The optimizer and scheduler are built once too, so that a wrong keyword for them (`++optimizer.momentum=0.9`
    with Adam) is reported now, not when Lightning builds them after loading the data.
    """
    stop_signals.check()  # a sweep stopped while its jobs are checked (it can't raise there under joblib)
    validate(cfg)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)  # after validate (the seed may be out of range), before the weights are drawn
    try:
        datamodule = instantiate(cfg.data)
        module = Classifier(
            build_model(cfg.model),
            optimizer=instantiate(cfg.optimizer),
            lr_scheduler=instantiate(cfg.lr_scheduler) if cfg.get("lr_scheduler") else None,
            config=OmegaConf.to_container(cfg, resolve=True),
        )
        module.configure_optimizers()
    except (InstantiationException, TypeError, ValueError) as error:
        raise UserError(f"bad config: {one_line(error)}") from error
    check_input_size(module.model, cfg)
    return datamodule, module


def check_input_size(model: torch.nn.Module, cfg: DictConfig) -> None:
    """One image of the size the data settings produce goes through the model, or the config is wrong."""
    side = 28 + 2 * cfg.data.pad
    was_training = model.training
    model.eval()  # batch norm can't train on one image
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, side, side))
    except RuntimeError as error:
        raise UserError(f"the model does not take {side}x{side} inputs (data.pad={cfg.data.pad}): {one_line(error)}") from error
    finally:
        model.train(was_training)


def check_trainer(cfg: DictConfig, make_trainer=None) -> pl.Trainer:
    """The Trainer the config asks for, or a UserError saying why it can't be had (e.g. no GPU here)."""
    try:
        return make_trainer() if make_trainer else instantiate(cfg.trainer, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    except (InstantiationException, MisconfigurationException, TypeError) as error:
        raise UserError(
            f"bad trainer config (trainer.accelerator={cfg.trainer.accelerator}, trainer.devices={cfg.trainer.devices}): "
            f"{one_line(error.__cause__ or error)}"
        ) from error


def train(cfg: DictConfig, job_dir: str | Path, interactive: bool = False, label: str = "", extra_callbacks=()) -> dict:
    """Train, validate every epoch, test on the official test set; write and return the job's metrics.

    Re-running a job folder skips a completed job and resumes any other from its last epoch-end
    checkpoint. A NaN loss ends the job as "diverged"; Ctrl-C or SIGTERM as "interrupted"; any
    other exception as "failed", recorded before it is raised again.
    """
    job_dir = Path(job_dir)
    previous = read_metrics(job_dir)
    if previous and previous.get("status") in FINISHED:
        print(f"{label or job_dir}: already {previous['status']}, skipped", flush=True)
        return previous
    if (job_dir / CHECKPOINT).is_file():  # before anything is written: a damaged one is named, not a 20-line unpickling traceback
        check_checkpoint(job_dir / CHECKPOINT)
    if not interactive:
        # "GPU available: False", "Trainer already configured with...": noise, once per job.
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    # A resumed job's training time includes the time spent before the interruption.
    clock = TrainingClock(earlier_s=float((previous or {}).get("train_time_s") or 0.0))
    try:  # this function owns the job's record from here on: a bad config or an unreachable logger is a failed job
        # Parallel jobs on one machine must not oversubscribe its cores; and jobs run one after another
        # in one process (Hydra's basic launcher) must not inherit the previous job's setting.
        torch.set_num_threads(threads_per_job(cfg))
        datamodule, module = build(cfg)
        compile_model(module, cfg)
        datamodule.prepare_data()  # missing data fails here, before the trainer starts
        trainer = check_trainer(cfg, lambda: build_trainer(cfg, job_dir, interactive, label, (*extra_callbacks, clock)))
        job_loggers.start(trainer.loggers, job_dir)
    except Exception as error:
        record_failed(job_dir, error)
        raise
    checkpoint = job_dir / CHECKPOINT
    resume_from = str(checkpoint) if checkpoint.is_file() else None

    def finish(metrics: dict) -> None:
        # With several devices, one process writes a completed job's results; any process records
        # how it ended otherwise (the loggers only keep rank 0's).
        if trainer.is_global_zero or metrics["status"] != "completed":
            write_metrics(job_dir, metrics)
        if trainer.is_global_zero:
            job_loggers.publish(trainer.loggers, job_dir, module.config, metrics, [name for name in FINAL_METRICS if name in metrics])

    def epochs_trained() -> int:
        if "epochs_completed" in trainer.callback_metrics:  # logged at every epoch's end
            return int(trainer.callback_metrics["epochs_completed"])
        # No epoch ended in this process. A run that resumes with trainer.max_time already spent trains
        # nothing, and its checkpoint calls the epoch that max_time cut short unfinished; the run
        # before it counted (and logged) that epoch: keep its count.
        return max(trainer.current_epoch, int((previous or {}).get("epochs") or 0))

    trained: dict[str, float] = {}  # the training's numbers once fit() ended: testing starts trainer.callback_metrics afresh

    def logged() -> dict[str, float]:
        return {name: float(value) for name, value in trainer.callback_metrics.items() if name in FINAL_METRICS}

    def outcome(status: str, **extra) -> dict:
        # A resumed job whose training was already done (it failed while testing) logs no new
        # training numbers: the earlier run's stand until replaced.
        earlier = {name: previous[name] for name in FINAL_METRICS if previous and previous.get(name) is not None}
        return {
            "status": status,
            **earlier,
            **trained,
            **logged(),
            "epochs": epochs_trained(),
            "num_params": sum(p.numel() for p in module.model.parameters() if p.requires_grad),
            **extra,
        }

    clock.start(module)
    try:
        # weights_only: a checkpoint is data, never code to unpickle.
        trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
        trained.update(logged())
        fitted = outcome("completed", train_time_s=clock.stop())
        if trainer.fast_dev_run:  # a check that the job runs: no numbers anyone could take for a result
            trainer.test(module, datamodule=datamodule, verbose=False)
            metrics = {"status": FAST_DEV_RUN, "note": "one batch of each split (debug=fdr): the code runs; no result"}
            write_metrics(job_dir, metrics)
            print(f"{label + ': ' if label else ''}fast_dev_run passed: one batch of each split went through fit and test", flush=True)
            return metrics
        tested = callback_group.test_checkpoint(cfg, job_dir)
        # Read now: testing from a checkpoint restores the callbacks' state of that epoch (early stopping's too).
        fitted.update(callback_group.outcome(trainer, cfg, tested))
        trainer.test(module, datamodule=datamodule, verbose=interactive, ckpt_path=tested, weights_only=True)
    except Diverged as error:
        metrics = outcome("diverged", error=str(error), train_time_s=clock.seconds())
        finish(metrics)
        print(f"{label + ': ' if label else ''}diverged: {error}", file=sys.stderr, flush=True)
        return metrics
    except Pruned as error:  # the search's pruner stopped this trial: recorded with its numbers so far, untested
        metrics = outcome(PRUNED, error=str(error), epochs=error.epochs, train_time_s=clock.seconds())
        finish(metrics)
        print(f"{label + ': ' if label else ''}pruned: {error}", flush=True)
        return metrics
    except (KeyboardInterrupt, SystemExit) as error:  # Lightning turns Ctrl-C and SIGTERM into SystemExit
        finish(outcome("interrupted", error=type(error).__name__, train_time_s=clock.seconds()))
        if isinstance(error, SIGTERMException):  # it carries no exit code: exit as a process killed by SIGTERM
            raise SystemExit(128 + signal.SIGTERM) from error
        raise
    except Exception as error:
        finish(outcome("failed", error=f"{type(error).__name__}: {error}", train_time_s=clock.seconds()))
        raise
    metrics = {**fitted, **logged()}
    finish(metrics)
    return metrics
