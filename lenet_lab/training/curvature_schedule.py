"""When SDLM (lenet_lab.optim.sdlm) measures the loss surface's curvature: its whole estimate at the
start of every epoch, from a sample of training images, and its running estimate every
`running_every` optimizer steps, from that step's batch.

A callback, so that the one LightningModule stays a plain classifier: it does nothing for an
optimizer that has no curvature to estimate. Grouped steps (several optimizer steps in one
Lightning step, lenet_lab.training.grouped_steps) call `after_step` after each of theirs; with one
step per batch Lightning's own batch hook does.
"""

from __future__ import annotations

from collections.abc import Callable

import lightning.pytorch as pl
import torch


class CurvatureSchedule(pl.Callback):
    def __init__(self):
        self.every = 0  # running_every of this epoch's optimizer; 0: no running estimate

    def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        optimizer = trainer.optimizers[0]
        if not hasattr(optimizer, "estimate_curvature"):
            self.every = 0
            return
        images, labels = trainer.datamodule.training_sample(optimizer.curvature_samples, module.current_epoch)
        measure(module, optimizer.estimate_curvature, images, labels, seed=module.current_epoch)
        self.every = optimizer.running_every

    def on_train_batch_end(self, trainer: pl.Trainer, module: pl.LightningModule, outputs, batch, batch_idx) -> None:
        if module.automatic_optimization:  # one optimizer step per batch; grouped steps call after_step
            self.after_step(trainer, module, *batch)

    def after_step(self, trainer: pl.Trainer, module: pl.LightningModule, images: torch.Tensor, labels: torch.Tensor) -> None:
        """After an optimizer step on (images, labels): SDLM's running estimate, every `every` steps."""
        if self.every and trainer.global_step % self.every == 0:
            measure(module, trainer.optimizers[0].update_running_curvature, images, labels, seed=trainer.global_step)


def measure(module: pl.LightningModule, estimate: Callable, images: torch.Tensor, labels: torch.Tensor, seed: int) -> None:
    """`estimate(network, loss, images, labels, seed=...)` on the module's model, its statistics frozen."""
    model = module.model
    # A model may say what to measure it on (the 1998 LeNet-5: F6 against its RBF bitmaps).
    network, loss = model.curvature_target() if hasattr(model, "curvature_target") else (model, module.criterion)
    was_training = model.training
    model.eval()  # batch norm statistics must not move (nor see single images)
    estimate(network, loss, images, labels, seed=seed)
    model.train(was_training)
