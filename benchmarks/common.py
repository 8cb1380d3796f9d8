"""What the benchmark scripts share: the config run.py would compose, and a step timer."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import lightning.pytorch as pl
import torch
from hydra import compose, initialize_config_dir

import lenet_lab.startup  # noqa: F401  (benchmarks are entry points: the config's resolvers and schema)
from lenet_lab.data.batches import BatchGroup
from lenet_lab.training.cuda_check import NVML_CHECK

PROJECT = Path(__file__).resolve().parents[1]
DATA = os.environ.get("LENET_LAB_DATA", str(PROJECT.parent / "shared" / "data"))
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # what trainer.accelerator=auto picks


def synchronize() -> None:
    """Wait for queued GPU work, so a clock reading means the steps before it are done."""
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@contextlib.contextmanager
def nvml_cuda_check(value: str | None):
    """Run with PYTORCH_NVML_BASED_CUDA_CHECK set to `value` (None: unset), restored afterwards.

    Importing Lightning sets it to "1"; a script that never imports Lightning runs without it,
    and on a machine without the NVIDIA driver every Adam step then checks for CUDA far faster
    (see lenet_lab/training/cuda_check.py). Each side of a comparison runs in the state it would have alone.
    """
    old = os.environ.get(NVML_CHECK)
    _set_env(NVML_CHECK, value)
    try:
        yield
    finally:
        _set_env(NVML_CHECK, old)


def run_config(*overrides: str):
    """The config `python run.py OVERRIDES` trains with, on the real MNIST files."""
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        return compose("config", overrides=[f"data.root={DATA}", *overrides])


def images_in(batch, steps: int | None = None) -> int:
    """A batch is `(images, labels)`, or a BatchGroup of them when one Lightning step runs several;
    `steps`: how many of those the step got to (a run's last group stops at trainer.max_steps)."""
    if isinstance(batch, BatchGroup):
        return len(batch.indices[: None if steps is None else steps * batch.batch_size])
    return len(batch[1])


class StepTimer(pl.Callback):
    """Wall time of Lightning steps `warmup` .. the last, the images they trained on, and the job around them.

    `interleave(images) -> seconds`, when given, runs other work (a hand-written loop on as many
    images) after the timed steps, each time ~`interleave_images` images have been trained here;
    its seconds are taken out of this run's time. Both then see the same machine, milliseconds
    apart, which on a shared machine whose speed drifts over minutes is what makes a ratio hold.
    """

    def __init__(self, warmup: int, interleave: Callable[[int], float] | None = None, interleave_images: int = 4096):
        self.warmup = warmup
        self.first_step_end = self.start = self.end = None
        self.images = 0
        self._steps_before = 0
        self.interleave, self.interleave_images = interleave, interleave_images
        self._pending = 0  # images trained here since the interleaved work last ran
        self._interleaved = self._interleaved_before_end = 0.0
        # Seconds in validation and test loops from their start to their last batch: work, not
        # overhead. What their end hooks do (checkpoint, evaluation files) counts as overhead.
        self.evaluating = 0.0
        self._eval_started = self._eval_last_batch = 0.0

    def _eval_start(self, *args):
        self._eval_started = self._eval_last_batch = time.perf_counter()

    def _eval_batch_end(self, *args):
        self._eval_last_batch = time.perf_counter()

    def _eval_end(self, *args):
        self.evaluating += self._eval_last_batch - self._eval_started

    on_validation_epoch_start = on_test_epoch_start = _eval_start
    on_validation_batch_end = on_test_batch_end = _eval_batch_end
    on_validation_epoch_end = on_test_epoch_end = _eval_end

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._steps_before = trainer.global_step
        if batch_idx == self.warmup and self.start is None:
            synchronize()
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.interleave or batch_idx in (0, trainer.num_training_batches - 1):  # only where a clock reading counts
            synchronize()
        now = time.perf_counter()
        if self.first_step_end is None:
            self.first_step_end = now
        if self.start is None:
            return
        self.end = now
        images = images_in(batch, trainer.global_step - self._steps_before)
        self.images += images
        self._interleaved_before_end = self._interleaved
        self._pending += images
        if self.interleave and self._pending >= self.interleave_images:
            self._interleaved += self.interleave(self._pending)
            self._pending = 0

    def on_train_end(self, trainer, pl_module):
        if self.interleave and self._pending:  # the rest, so both sides cover the same images
            self.interleave(self._pending)

    def images_per_second(self) -> float:
        return self.images / (self.end - self.start - self._interleaved_before_end)
