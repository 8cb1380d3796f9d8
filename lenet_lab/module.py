"""The one LightningModule: any classifier `nn.Module`, cross-entropy, accuracy per split.

Logged once per epoch under fixed names that aggregation and sweeps read:
`train/loss`, `train/acc`, `val/loss`, `val/acc`, `test/loss`, `test/acc` and `lr`.
"""

from __future__ import annotations

from collections.abc import Callable

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

OptimizerFactory = Callable[..., torch.optim.Optimizer]  # a `_partial_` optimizer: params -> optimizer
SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


class Classifier(pl.LightningModule):
    def __init__(
        self,
        model: nn.Module,
        optimizer: OptimizerFactory,
        lr_scheduler: SchedulerFactory | None = None,
        num_classes: int = 10,
        config: dict | None = None,
    ):
        super().__init__()
        self.model = model
        self.optimizer_factory = optimizer
        self.scheduler_factory = lr_scheduler
        # The run's config travels inside every checkpoint, so a checkpoint alone rebuilds its model.
        self.config = config or {}
        # One metric object per split, so their running states never mix.
        # (ModuleDict keys can't be "train": that is a method of every nn.Module.)
        self.accuracy = nn.ModuleDict({f"{split}_acc": MulticlassAccuracy(num_classes, average="micro") for split in ("train", "val", "test")})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _step(self, batch, split: str) -> torch.Tensor:
        images, labels = batch
        logits = self.model(images)
        loss = F.cross_entropy(logits, labels)
        metric = self.accuracy[f"{split}_acc"]
        metric.update(logits.detach(), labels)
        # on_step=False: values are accumulated on the device and reduced once per epoch, so no
        # step pays for a host sync or an event-file write.
        self.log(f"{split}/loss", loss.detach(), on_step=False, on_epoch=True, batch_size=len(labels))
        self.log(f"{split}/acc", metric, on_step=False, on_epoch=True)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def on_train_epoch_start(self) -> None:
        # The rate this epoch trains with (schedulers step at epoch ends).
        self.log("lr", self.trainer.optimizers[0].param_groups[0]["lr"], on_step=False, on_epoch=True)

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer), "interval": "epoch"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["config"] = self.config
