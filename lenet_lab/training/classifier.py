"""The one LightningModule: any classifier `nn.Module`, its loss, accuracy per split.

A model's output is one score per class, the highest the prediction. The loss is cross-entropy
unless the model defines `loss(scores, labels)`.

Logged once per epoch under fixed names that aggregation and sweeps read:
`train/loss`, `train/acc`, `val/loss`, `val/acc`, `test/loss`, `test/acc` and `lr`.

When the DataModule hands over several batches per training step (`data.batches_per_step`),
this module runs one optimizer step for each (Lightning's manual optimization): the same
updates in the same order as one batch per step, without paying Lightning's per-step cost for
each (`lenet_lab.training.grouped_steps` decides when, and runs the group).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import nn

from lenet_lab.data.mnist import TRAIN_EVAL
from lenet_lab.training import grouped_steps
from lenet_lab.training.divergence import DivergenceGuard

OptimizerFactory = Callable[..., torch.optim.Optimizer]  # a `_partial_` optimizer: params -> optimizer
SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


class Classifier(pl.LightningModule):
    def __init__(
        self,
        model: nn.Module,
        optimizer: OptimizerFactory,
        lr_scheduler: SchedulerFactory | None = None,
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
        # split -> ([sum of losses, correct predictions] on the device, examples). A tally costs a
        # few tensor ops a step; `self.log` or a torchmetrics update every step costs several
        # times that, which at batch size 1 is as much as the training step itself.
        self.tallies: dict[str, tuple[torch.Tensor, int]] = {}
        # Set in `setup`: whether grouped steps may skip Lightning's backward pass and optimizer step,
        # and how many optimizer steps apart they check the loss.
        self.plain_steps = False
        self.divergence_every = 0
        self.untimed_seconds = 0.0  # measuring, not training: data.train_eval_every_epoch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def setup(self, stage: str) -> None:
        datamodule = self.trainer.datamodule
        requested = getattr(datamodule, "batches_per_step", 1) if stage == "fit" else 1
        group = grouped_steps.batches_per_step(self.trainer, requested)
        if hasattr(datamodule, "training_group_size"):
            datamodule.training_group_size = group
        self.automatic_optimization = group == 1
        self.plain_steps = group > 1 and grouped_steps.lightning_adds_nothing(self, self.trainer)
        # Grouped steps check the loss inside their group, as often as the divergence guard would.
        guards = [cb for cb in self.trainer.callbacks if isinstance(cb, DivergenceGuard)]
        self.divergence_every = guards[0].cadence(self.trainer, self.trainer.strategy.root_device.type) if guards else 0

    def _step(self, batch, split: str) -> torch.Tensor:
        images, labels = batch
        scores = self.model(images)
        loss = self.criterion(scores, labels)
        self._tally(split, [loss], [scores], [labels])
        return loss

    def _tally(self, split: str, losses: list[torch.Tensor], scores: list[torch.Tensor], labels: list[torch.Tensor]) -> None:
        """Add the batches' [loss sum, correct predictions] to the split's tally on the device.

        A handful of tensor ops for any number of batches: a group of training batches is tallied
        once, after its last step (per batch, the tally cost a small model ~5% of its speed).
        """
        if split not in self.tallies:
            self.tallies[split] = torch.zeros(2, device=losses[0].device), 0
        (sums, count), sizes = self.tallies[split], [len(y) for y in labels]
        if len(losses) == 1:
            loss_sum = losses[0].detach() * sizes[0]
            correct = (scores[0].detach().argmax(1) == labels[0]).sum()
        else:
            stacked = torch.stack(losses).detach()  # losses are batch means; batches differ only at an epoch's end
            loss_sum = stacked.sum() * sizes[0] if len(set(sizes)) == 1 else (stacked * stacked.new_tensor(sizes)).sum()
            correct = (torch.cat(scores).detach().argmax(1) == torch.cat(labels)).sum()
        # One in-place add into a float32 tensor; the count stays on the host.
        sums += torch.stack([loss_sum, correct])
        self.tallies[split] = sums, count + sum(sizes)

    def _log_epoch(self, split: str) -> None:
        if split not in self.tallies:  # nothing ran (e.g. zero batches)
            return
        sums, count = self.tallies.pop(split)
        # Sums over all devices, then one division: exact however the examples were sharded.
        loss_sum, correct, count = self.trainer.strategy.reduce(torch.cat([sums, sums.new_tensor([count])]), reduce_op="sum")
        self.log(f"{split}/loss", loss_sum / count)
        self.log(f"{split}/acc", correct / count)

    def training_step(self, batch, batch_idx):
        if self.automatic_optimization:
            return self._step(batch, "train")
        losses, scores, labels = grouped_steps.train_group(self, batch, self.plain_steps, self.divergence_every)
        self._tally("train", losses, scores, labels)
        return losses[-1]  # what the divergence check reads

    def validation_step(self, batch, batch_idx, dataloader_idx=0):
        # The hold-out, the test set measured every epoch (data.test_every_epoch), the training set (train_eval).
        self._step(batch, self._validation_split(dataloader_idx))

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def on_train_epoch_start(self) -> None:
        optimizer = self.trainer.optimizers[0]
        # The rate this epoch trains with (schedulers step at epoch ends).
        self.log("lr", optimizer.param_groups[0]["lr"])

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")
        # For the job's results, not TensorBoard: callback metrics are what Lightning brings back
        # from spawned processes (ddp_spawn), where the main process's own epoch counter stays 0.
        self.log("epochs_completed", float(self.current_epoch + 1), logger=False)
        scheduler = self.lr_schedulers()
        if scheduler is not None and not self.automatic_optimization:  # Lightning steps it only in automatic mode
            scheduler.step()

    def on_validation_batch_start(self, batch, batch_idx, dataloader_idx=0) -> None:
        # The training set measured after a pass (data.train_eval_every_epoch) is not training: its
        # time is kept apart, and train() leaves it out of train_time_s.
        if self._validation_split(dataloader_idx) == TRAIN_EVAL:
            self._untimed_since = time.perf_counter()

    def on_validation_batch_end(self, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if self._validation_split(dataloader_idx) == TRAIN_EVAL:
            self.untimed_seconds += time.perf_counter() - self._untimed_since

    def _validation_split(self, dataloader_idx: int) -> str:
        return getattr(self.trainer.datamodule, "validation_splits", ["val"])[dataloader_idx]

    def on_validation_epoch_end(self) -> None:
        for split in ("val", "test", TRAIN_EVAL):
            self._log_epoch(split)

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer), "interval": "epoch"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["config"] = self.config
