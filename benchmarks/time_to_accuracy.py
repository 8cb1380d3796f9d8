"""Wall time and epochs until test accuracy first reaches 99.0%, for the speed configuration.

    python benchmarks/time_to_accuracy.py                       # +experiment=speedrun, this machine's device
    python benchmarks/time_to_accuracy.py epochs=8 data.batch_size=256   # any run.py override

Trains exactly as `python run.py +experiment=speedrun` does, and after every epoch measures the
official test accuracy on the side (that time is not counted, and nothing is tuned on it). On a
GPU, bf16 mixed precision is added unless the command line sets a precision.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import torch
from common import run_config

from lenet_lab.config.threads import threads_per_job
from lenet_lab.training.train import build, build_trainer, compile_model

TARGET = 0.99


class TestAccuracyClock(pl.Callback):
    """Training time until the test accuracy first reaches TARGET; stops training there."""

    def __init__(self):
        self.training_seconds = 0.0
        self.history: list[tuple[int, float, float]] = []  # epoch, seconds so far, test accuracy

    def on_train_epoch_start(self, trainer, pl_module):
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        self.training_seconds += time.perf_counter() - self.started
        images, labels = trainer.datamodule.splits["test"]
        pl_module.eval()
        with torch.no_grad(), torch.autocast(pl_module.device.type, enabled=False):
            correct = sum((pl_module(x).argmax(1) == y).sum().item() for x, y in zip(images.split(2000), labels.split(2000)))
        pl_module.train()
        accuracy = correct / len(labels)
        self.history.append((trainer.current_epoch + 1, self.training_seconds, accuracy))
        if accuracy >= TARGET:
            trainer.should_stop = True


def main() -> None:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    overrides = ["+experiment=speedrun", *sys.argv[1:]]
    if torch.cuda.is_available() and not any(o.startswith("trainer.precision") for o in overrides):
        overrides.append("trainer.precision=bf16-mixed")
    cfg = run_config(*overrides, "trainer.enable_progress_bar=false")
    pl.seed_everything(cfg.seed, verbose=False)
    torch.set_num_threads(threads_per_job(cfg))  # as train() does: `threads=1` on the command line is honoured
    datamodule, module = build(cfg)
    compile_model(module, cfg)  # model.compile=true: compiled as train() compiles it, the compilation timed with the first epoch
    clock = TestAccuracyClock()
    with tempfile.TemporaryDirectory() as job_dir:
        trainer = build_trainer(cfg, Path(job_dir), interactive=False, label="", extra_callbacks=[clock])
        trainer.fit(module, datamodule=datamodule)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"cpu, {torch.get_num_threads()} threads"
    print(f"\n{' '.join(overrides)} on {device}")
    print("| epoch | training time (s) | test accuracy % |\n|---:|---:|---:|")
    for epoch, seconds, accuracy in clock.history:
        print(f"| {epoch} | {seconds:.1f} | {100 * accuracy:.2f} |")
    reached = [row for row in clock.history if row[2] >= TARGET]
    print(f"\n99.0% reached after {reached[0][0]} epochs, {reached[0][1]:.1f} s of training" if reached else "\n99.0% not reached")


if __name__ == "__main__":
    main()
