"""One line per epoch instead of a progress bar: what a sweep of many jobs should print."""

from __future__ import annotations

import time

import lightning.pytorch as pl

from lenet_lab import metrics

SHOWN = (*metrics.FINAL[:4], "test/acc")  # train and val loss and accuracy; test/acc: with data.test_every_epoch


def format_epoch(label: str, epoch: int, epochs: int, values: dict, seconds: float) -> str:
    parts = [f"{label} epoch {epoch}/{epochs}".strip()]
    for name in SHOWN:
        if name in values:
            parts.append(f"{name} {metrics.shown(name, float(values[name]))}")
    parts.append(f"{seconds:.1f}s")
    return "  ".join(parts)


class EpochLine(pl.Callback):
    """Prints an epoch once its numbers are final: when the next epoch starts, or training ends.

    (Lightning reduces the epoch's training metrics after every `on_train_epoch_end` hook has
    run, so that hook would print the previous epoch's values.)
    """

    def __init__(self, label: str = ""):
        self.label = f"[{label}]" if label else ""
        self.epoch_started = time.perf_counter()
        self.pending = False

    def on_train_epoch_start(self, trainer, pl_module):
        self._flush(trainer)
        self.epoch_started = time.perf_counter()
        self.pending = True

    def on_train_end(self, trainer, pl_module):
        self._flush(trainer)

    def on_exception(self, trainer, pl_module, exception):
        # Lightning acts on SIGTERM (a preempted SLURM job) at its next step, or at the end of the
        # epoch: then that epoch is finished and checkpointed, the resumed job starts after it, and
        # its line is printed now. An epoch cut short is not (the resumed job runs it again).
        progress = trainer.fit_loop.epoch_progress.current
        if progress.started == progress.completed:
            self._flush(trainer)

    def _flush(self, trainer):
        if not self.pending:
            return
        seconds = time.perf_counter() - self.epoch_started
        print(format_epoch(self.label, trainer.current_epoch, trainer.max_epochs, trainer.callback_metrics, seconds), flush=True)
        self.pending = False
