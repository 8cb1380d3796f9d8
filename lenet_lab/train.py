"""train(cfg): config -> objects -> fit, test -> the job's results on disk.

Tests call this directly; `run.py` only adds Hydra's command line and error reporting around it.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import lightning.pytorch as pl
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf

from lenet_lab.epoch_line import EpochLine
from lenet_lab.hparams import write_hparams
from lenet_lab.module import Classifier
from lenet_lab.results import write_metrics

# Lightning calls a torch API that torch has deprecated; nothing a user can act on.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
# Metrics are logged per epoch only, so the per-step logging interval doesn't matter.
warnings.filterwarnings("ignore", message=r".*smaller than the logging interval")

FINAL_METRICS = ("train/loss", "train/acc", "val/loss", "val/acc", "test/loss", "test/acc")


def build_trainer(cfg: DictConfig, job_dir: Path, interactive: bool, label: str) -> pl.Trainer:
    logger = instantiate(cfg.logger, save_dir=str(job_dir))
    # At most one checkpoint per job, the last one: a sweep of ResNets must not fill the disk.
    callbacks = [ModelCheckpoint(dirpath=job_dir / "checkpoints", filename="last", save_top_k=1, enable_version_counter=False)]
    progress_bar = cfg.trainer.get("enable_progress_bar")
    progress_bar = interactive if progress_bar is None else progress_bar
    if not progress_bar:
        callbacks.append(EpochLine(label))
    summary = cfg.trainer.get("enable_model_summary")
    return instantiate(
        cfg.trainer,
        logger=logger,
        callbacks=callbacks,
        default_root_dir=str(job_dir),
        enable_progress_bar=progress_bar,
        enable_model_summary=interactive if summary is None else summary,
    )


def train(cfg: DictConfig, job_dir: str | Path, interactive: bool = False, label: str = "") -> dict:
    """Train, validate every epoch, test on the official test set; write and return the job's metrics."""
    job_dir = Path(job_dir)
    if not interactive:
        # "GPU available: False", "Trainer already configured with...": noise, once per job.
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)

    datamodule = instantiate(cfg.data)
    datamodule.prepare_data()  # missing data fails here, before anything is built
    scheduler = instantiate(cfg.lr_scheduler) if cfg.get("lr_scheduler") else None
    module = Classifier(
        instantiate(cfg.model),
        optimizer=instantiate(cfg.optimizer),
        lr_scheduler=scheduler,
        config=OmegaConf.to_container(cfg, resolve=True),
    )
    trainer = build_trainer(cfg, job_dir, interactive, label)

    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule)
    train_time = time.perf_counter() - started
    final = {name: float(value) for name, value in trainer.callback_metrics.items()}
    trainer.test(module, datamodule=datamodule, verbose=interactive)
    final.update({name: float(value) for name, value in trainer.callback_metrics.items()})

    metrics = {
        "status": "completed",
        **{name: final[name] for name in FINAL_METRICS if name in final},
        "epochs": trainer.current_epoch,
        "num_params": sum(p.numel() for p in module.model.parameters() if p.requires_grad),
        "train_time_s": train_time,
    }
    write_hparams(trainer.logger.experiment, module.config, [name for name in FINAL_METRICS if name in metrics])
    write_metrics(job_dir, metrics)
    return metrics
