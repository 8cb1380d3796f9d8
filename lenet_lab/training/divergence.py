"""Stop a job soon after its training loss stops being a number (e.g. SGD with lr 10).

The loss is checked every N optimizer steps, counted as optimizer steps whether Lightning drives
each step or a group of them (lenet_lab.training.grouped_steps checks inside its groups). Reading
the loss on the host waits for the device: free on a CPU, where N is 1, a stall on a GPU, where N
is `accelerator_every` (a NaN stays NaN; at most N steps are lost).
"""

from __future__ import annotations

import math

import lightning.pytorch as pl
import torch


class Diverged(Exception):
    """The training loss became NaN or infinite."""


def diverged_at(loss: torch.Tensor, trainer: pl.Trainer) -> Diverged:
    return Diverged(f"training loss became {loss.item()} at epoch {trainer.current_epoch + 1}, step {trainer.global_step}")


def check_loss(loss: torch.Tensor, trainer: pl.Trainer) -> None:
    """Raise Diverged if `loss` is not a finite number (one host sync)."""
    # The scalar's value, tested on the host: one op fewer than torch.isfinite(loss).item(),
    # which on a CPU runs every step (a few microseconds of a small model's ~100).
    if not math.isfinite(loss.item()):
        raise diverged_at(loss, trainer)


class DivergenceGuard(pl.Callback):
    def __init__(self, every: int | None = None, accelerator_every: int = 25):
        self.every = every  # None: 1 for one process on a CPU, else accelerator_every
        self.accelerator_every = accelerator_every

    def cadence(self, trainer: pl.Trainer, device_type: str) -> int:
        """How many optimizer steps apart the loss is checked."""
        if self.every:
            return self.every
        return 1 if device_type == "cpu" and trainer.world_size == 1 else self.accelerator_every

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if not getattr(pl_module, "automatic_optimization", True):  # grouped steps: checked inside the group
            return
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if trainer.global_step % self.cadence(trainer, loss.device.type):
            return
        diverged = not math.isfinite(loss.item())
        if trainer.world_size > 1:
            # Every process stops, or none: one that stopped alone would leave the others waiting
            # forever in their next gradient sync. (All of them are at the same step here.)
            diverged = trainer.strategy.reduce_boolean_decision(diverged, all=False)
        if diverged:
            raise diverged_at(loss, trainer)
