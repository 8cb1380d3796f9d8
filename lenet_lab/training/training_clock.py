"""A job's training time, counted across the runs that resumed it.

A run that stops cleanly (Ctrl-C, SIGTERM, a failure) records its time in metrics.json and the next
run counts on from it. A run killed outright (SIGKILL, a launcher's pool torn down, the machine
going away) records nothing; its checkpoints still carry this callback's state, so the time up to
the last checkpoint is not lost.
"""

from __future__ import annotations

import time

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback


class TrainingClock(Callback):
    def __init__(self, earlier_s: float = 0.0):
        self.earlier_s = earlier_s  # trained before this run (metrics.json's train_time_s)
        self._module: pl.LightningModule | None = None
        self._started = 0.0

    def start(self, module: pl.LightningModule) -> None:
        """Called just before trainer.fit; `module.untimed_seconds` is time to leave out (train_eval)."""
        self._module, self._started = module, time.perf_counter()

    def stop(self) -> float:
        """Called when fit returns: the count stands, whatever checkpoint testing loads after."""
        self.earlier_s, self._module = self.seconds(), None
        return self.earlier_s

    def seconds(self) -> float:
        if self._module is None:
            return self.earlier_s
        return self.earlier_s + time.perf_counter() - self._started - self._module.untimed_seconds

    def state_dict(self) -> dict:
        return {"train_time_s": self.seconds()}

    def load_state_dict(self, state_dict: dict) -> None:
        if self._module is None:  # not counting: testing from a checkpoint (test_on=best), not resuming
            return
        # Resuming: the checkpoint's count, unless metrics.json recorded more (time after that checkpoint).
        self.earlier_s = max(self.earlier_s, float(state_dict.get("train_time_s", 0.0)))
