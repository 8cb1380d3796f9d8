"""Several optimizer steps per Lightning step: how training at small batch sizes stays fast.

Lightning spends a fraction of a millisecond on every step it drives (hooks, callbacks, batch
transfer, logging). At batch size 1 that is 60,000 times an epoch, as much as the training
itself. The DataModule can hand over a group of batches per Lightning step (`BatchGroup`); the
LightningModule then runs one optimizer step per batch in manual optimization: the same updates
in the same order as one batch per step (measured in benchmarks/throughput.py).

This module decides when grouping is allowed, and runs a group. It is the only place that uses
Lightning's private API: `LightningOptimizer._on_before_step` / `_on_after_step` (how manual
optimization counts `trainer.global_step`) and the comparison of hook methods with Lightning's
own. Both are checked by `missing_private_api` (tests/test_package.py) against the minor
versions of Lightning that pyproject.toml allows; if they are gone, the groups fall back to
Lightning's public manual-optimization calls (correct, slower).
"""

from __future__ import annotations

import functools

import lightning.pytorch as pl
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.plugins.precision import Precision
from lightning.pytorch.strategies import Strategy

from lenet_lab.training.divergence import check_loss

# Hooks that Lightning's own backward pass and optimizer step exist to call.
AROUND_STEP_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")
# Manual optimization counts a step in these two methods of its loop, which it installs on the
# LightningOptimizer (whose own `step` calls them around the optimizer's).
STEP_COUNTERS = ("_on_before_step", "_on_after_step")


def missing_private_api() -> list[str]:
    """The private Lightning attributes plain steps rely on that this Lightning lacks ([] when all there)."""
    from lightning.pytorch.loops.optimization.manual import _ManualOptimization

    wrapped = LightningOptimizer(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
    missing = [f"_ManualOptimization.{name}" for name in STEP_COUNTERS if not callable(getattr(_ManualOptimization, name, None))]
    return missing + [f"LightningOptimizer().{name}" for name in STEP_COUNTERS if not callable(getattr(wrapped, name, None))]


@functools.cache
def _private_api_missing() -> bool:
    return bool(missing_private_api())


def batches_per_step(trainer: pl.Trainer | None, requested: int) -> int:
    """`requested` batches per Lightning step, unless the run needs Lightning to drive every batch
    itself: with several devices (gradients are synchronised once per backward pass of a step),
    Lightning's gradient clipping or accumulation (features of its automatic optimization), or
    limits that Lightning counts in loader items and a user gives in batches
    (`limit_train_batches`, an integer `val_check_interval`)."""
    if trainer is None:
        return requested
    limit = trainer.limit_train_batches  # 1.0: all of them; the integer 1: one batch
    counted_in_batches = isinstance(limit, int) or limit != 1.0 or isinstance(trainer.val_check_interval, int)
    if trainer.world_size > 1 or trainer.gradient_clip_val or trainer.accumulate_grad_batches > 1 or counted_in_batches:
        return 1
    return requested


def lightning_adds_nothing(module: pl.LightningModule, trainer: pl.Trainer) -> bool:
    """Whether Lightning's backward pass and optimizer step would add anything to autograd's and the
    optimizer's own. Lightning's backward adds loss scaling (16-bit precision) and calls backward
    hooks; its optimizer step calls `on_before_optimizer_step` hooks and counts the step. With
    plain 32-bit precision and no one listening to those hooks, autograd and the optimizer alone do
    the same, a few dozen microseconds sooner a step: what separates a small model's step from a
    hand-written loop's."""
    if _private_api_missing():
        return False
    listened = any(
        getattr(type(obj), hook) is not getattr(base, hook)
        for obj, base in [(module, pl.LightningModule), *((cb, pl.Callback) for cb in trainer.callbacks)]
        for hook in AROUND_STEP_HOOKS
    )  # fmt: skip
    plain_step = type(trainer.strategy).optimizer_step is Strategy.optimizer_step
    return type(trainer.precision_plugin) is Precision and plain_step and not listened


def plain_step(optimizer: LightningOptimizer, loss: torch.Tensor) -> None:
    """Autograd and the wrapped optimizer itself (the wrapper forwards every attribute lookup),
    between the two calls by which Lightning counts optimizer steps in manual optimization
    (`trainer.global_step`, which checkpoints and schedules read)."""
    raw = optimizer.optimizer
    raw.zero_grad(set_to_none=True)
    loss.backward()
    optimizer._on_before_step()
    raw.step()
    optimizer._on_after_step()


def lightning_step(module: pl.LightningModule, optimizer: LightningOptimizer, loss: torch.Tensor) -> None:
    """One optimizer step through Lightning's public manual-optimization calls."""
    optimizer.zero_grad(set_to_none=True)
    module.manual_backward(loss)
    optimizer.step()


def train_group(module: pl.LightningModule, group, plain: bool, check_every: int = 0):
    """One optimizer step per batch of `group`; the (losses, scores, labels) of the batches run.

    Stops at `trainer.max_steps` inside the group: Lightning checks it only between its own steps.
    Every `check_every` optimizer steps (0: never) the loss is checked, as the divergence guard
    checks single steps: a group is thousands of steps at small batch sizes."""
    optimizer = module.optimizers()
    trainer, max_steps = module.trainer, module.trainer.max_steps
    # Callbacks that follow every optimizer step (SDLM's running curvature, curvature_schedule.py).
    after_step = [callback.after_step for callback in trainer.callbacks if hasattr(callback, "after_step")]
    losses, scores, labels = [], [], []
    for images, batch_labels in group:
        batch_scores = module.model(images)
        loss = module.criterion(batch_scores, batch_labels)
        plain_step(optimizer, loss) if plain else lightning_step(module, optimizer, loss)
        losses.append(loss.detach())
        scores.append(batch_scores.detach())
        labels.append(batch_labels)
        if check_every and trainer.global_step % check_every == 0:
            check_loss(loss, trainer)
        for hook in after_step:
            hook(trainer, module, images, batch_labels)
        if trainer.global_step == max_steps:
            break
    return losses, scores, labels
