"""The callbacks a user switches on (conf/callbacks/): a dict of Lightning callbacks keyed by name,
so that `callbacks=[early_stopping,checkpoint_best]` composes two. The always-on ones (last
checkpoint, divergence, evaluation, epoch line) are train.py's; these add to them.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from omegaconf import DictConfig

from lenet_lab.errors import UserError, one_line
from lenet_lab.job_folder import BEST_CHECKPOINT


def build_callbacks(cfg: DictConfig, job_dir: Path) -> list[pl.Callback]:
    callbacks = []
    for name, node in (cfg.get("callbacks") or {}).items():
        if not node:  # callbacks.rich=null drops one
            continue
        extra = {}
        if str(node.get("_target_", "")).endswith("ModelCheckpoint"):
            # Where the job folder's contract says, one file, overwritten: no best-v1.ckpt on a rerun.
            best = job_dir / BEST_CHECKPOINT
            extra = {"dirpath": str(best.parent), "filename": best.stem, "save_top_k": 1, "enable_version_counter": False}
        try:
            callbacks.append(instantiate(node, **extra))
        except InstantiationException as error:
            raise UserError(f"bad callbacks.{name}: {one_line(error.__cause__ or error)}") from error
    return callbacks


def test_checkpoint(cfg: DictConfig, job_dir: Path) -> str | None:
    """The weights the test set sees: the best epoch's (test_on=best), else the model as training left it."""
    if cfg.get("test_on", "last") != "best":
        return None
    best = job_dir / BEST_CHECKPOINT
    if not best.is_file():
        raise UserError(f"test_on=best but there is no {BEST_CHECKPOINT} (add callbacks=checkpoint_best)")
    return str(best)


def outcome(trainer: pl.Trainer, cfg: DictConfig, tested: str | None) -> dict:
    """What metrics.json says about these callbacks: when early stopping stopped, which weights were tested."""
    fields = {}
    for callback in trainer.callbacks:
        if isinstance(callback, EarlyStopping):
            fields["stopped_epoch"] = callback.stopped_epoch + 1 if callback.stopped_epoch else None  # 1-based; None: ran every epoch
    if any(isinstance(c, ModelCheckpoint) and c.monitor for c in trainer.callbacks):
        fields["test_on"] = "best" if tested else "last"
    if tested:
        # The epoch the weights are from: Lightning's 0-based counter at the end of that epoch.
        fields["tested_epoch"] = int(torch.load(tested, map_location="cpu", weights_only=True)["epoch"]) + 1
    return fields
