"""The one LightningModule: any classifier `nn.Module`, its loss, accuracy per split.

A model's output is one score per class, the highest the prediction. The loss is cross-entropy
unless the model defines `loss(scores, labels)`.

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
SPLITS = ("train", "val", "test")


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
        # A model with its own criterion (the 1998 LeNet-5's MAP loss) brings it; others get cross-entropy.
        self.criterion = getattr(model, "loss", F.cross_entropy)
        self.optimizer_factory = optimizer
        self.scheduler_factory = lr_scheduler
        # The run's config travels inside every checkpoint, so a checkpoint alone rebuilds its model.
        self.config = config or {}
        # One metric object per split, so their states never mix. (Keys can't be "train": that
        # is a method of every nn.Module.) validate_args=False: the check costs a host sync a step.
        self.accuracy = nn.ModuleDict(
            {f"{split}_acc": MulticlassAccuracy(num_classes, average="micro", validate_args=False) for split in SPLITS}
        )
        self.loss_sums: dict[str, torch.Tensor] = {}  # split -> [sum of losses, number of examples]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _step(self, batch, split: str) -> torch.Tensor:
        images, labels = batch
        logits = self.model(images)
        loss = self.criterion(logits, labels)
        # Accumulated on the device and logged once per epoch: `self.log` in every step costs
        # about a millisecond of bookkeeping, as much as a whole LeNet step at batch size 1.
        self.accuracy[f"{split}_acc"].update(logits.detach(), labels)
        batch_loss = torch.stack([loss.detach() * len(labels), torch.tensor(len(labels), device=loss.device)])
        self.loss_sums[split] = self.loss_sums[split] + batch_loss if split in self.loss_sums else batch_loss
        return loss

    def _log_epoch(self, split: str) -> None:
        if split not in self.loss_sums:  # nothing ran (e.g. zero batches)
            return
        total, count = self.loss_sums.pop(split)
        accuracy = self.accuracy[f"{split}_acc"]
        self.log(f"{split}/loss", total / count, sync_dist=True)
        self.log(f"{split}/acc", accuracy.compute())  # torchmetrics syncs across devices itself
        accuracy.reset()

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def on_train_epoch_start(self) -> None:
        # The rate this epoch trains with (schedulers step at epoch ends).
        self.log("lr", self.trainer.optimizers[0].param_groups[0]["lr"])

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer), "interval": "epoch"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["config"] = self.config
