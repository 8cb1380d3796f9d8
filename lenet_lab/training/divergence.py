"""Stop a job the moment its training loss stops being a number (e.g. SGD with lr 10)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch


class Diverged(Exception):
    """The training loss became NaN or infinite."""


class DivergenceGuard(pl.Callback):
    def __init__(self, accelerator_every: int = 25):
        # Reading the loss on the host waits for the device: free on the CPU, a stall on a GPU,
        # so there it looks every few steps (a NaN stays NaN; at most that many steps are lost).
        self.accelerator_every = accelerator_every

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        alone_on_cpu = loss.device.type == "cpu" and trainer.world_size == 1
        if trainer.global_step % (1 if alone_on_cpu else self.accelerator_every):
            return
        diverged = not torch.isfinite(loss).item()
        if trainer.world_size > 1:
            # Every process stops, or none: one that stopped alone would leave the others waiting
            # forever in their next gradient sync. (All of them are at the same step here.)
            diverged = trainer.strategy.reduce_boolean_decision(diverged, all=False)
        if diverged:
            raise Diverged(f"training loss became {loss.item()} at epoch {trainer.current_epoch + 1}, step {trainer.global_step}")
