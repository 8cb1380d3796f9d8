"""Ctrl-C in the middle of a job, for the tests of what an interrupted job leaves and how it resumes."""

import signal

import pytest

from lenet_lab.training.classifier import Classifier
from lenet_lab.training.train import train


def train_interrupted_in_epoch_3(cfg, job_dir, monkeypatch) -> None:
    """train(cfg, job_dir) stopped by a KeyboardInterrupt at the first batch of epoch 3; training is normal again after."""
    original_step = Classifier.training_step

    def interrupt_in_epoch_3(self, batch, batch_idx):
        if self.current_epoch == 2 and batch_idx == 0:
            raise KeyboardInterrupt  # what Ctrl-C does; SIGTERM takes the same path in Lightning
        return original_step(self, batch, batch_idx)

    monkeypatch.setattr(Classifier, "training_step", interrupt_in_epoch_3)
    sigint = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit):
            train(cfg, job_dir)
    finally:
        signal.signal(signal.SIGINT, sigint)  # Lightning ignores further Ctrl-C while it shuts down
        monkeypatch.setattr(Classifier, "training_step", original_step)
