"""Training throughput: the framework as run.py trains vs a minimal hand-written PyTorch loop.

    python benchmarks/throughput.py            # all rows (a few minutes on 2 CPU cores)
    python benchmarks/throughput.py --quick    # fewer steps

All sides use the same model config, data tensors, optimizer and batch size, in one process,
one after another, five times, in alternating order (hand, bare, framework, then framework,
bare, hand, ...): a ratio is taken within each round, where the three ran seconds apart, and the
table shows the median round (img/s: the median of each column). "framework" is Trainer + MNISTDataModule + Classifier with metrics,
logging, checkpointing and divergence checks on, built by the same code as run.py. "bare
Lightning" is Lightning's own floor: a Trainer and a LightningModule that only returns the loss,
fed the same in-memory batches; what lies between it and the hand-written loop is Lightning's
per-step cost, not lenet_lab's.
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from common import DEVICE, StepTimer, nvml_cuda_check, run_config, synchronize
from hydra.utils import instantiate
from omegaconf import open_dict

from lenet_lab.batches import EpochPermutation, TensorBatches
from lenet_lab.train import build, build_trainer

# (model, batch size, optimizer steps timed): a few seconds each on a CPU, across epoch ends where
# an epoch is shorter (the framework's epoch-end work, e.g. its checkpoint, is timed with it).
# Shorter runs let this machine's noise (+-20% between two one-second runs) decide the ratio.
# The first steps of each run are warm-up and not timed.
ROWS = [
    ("lenet", 64, 1500), ("lenet", 256, 500), ("mlp", 64, 4000), ("mlp", 256, 1500), ("resnet18", 64, 60),
    ("lenet", 1, 3000), ("lenet5_1998", 1, 3000),  # batch size 1: 60,000 steps an epoch
]  # fmt: skip
WARMUP = 20
REPEATS = 5  # rounds; this machine is shared and its speed drifts by +-30% over minutes


def hand_written(cfg, images, labels, steps: int) -> float:
    """The loop a user would write: index a batch, forward, loss, backward, step; in a process
    that never imported Lightning (which changes how torch checks for CUDA on every Adam step)."""
    with nvml_cuda_check(None):
        return _hand_written(cfg, images, labels, steps)


def _hand_written(cfg, images, labels, steps: int) -> float:
    torch.manual_seed(cfg.seed)
    model = instantiate(cfg.model).to(images.device)
    optimizer = instantiate(cfg.optimizer)(model.parameters())
    criterion = getattr(model, "loss", F.cross_entropy)  # the 1998 LeNet-5 brings its MAP loss
    batch_size = cfg.data.batch_size
    order = torch.randperm(len(labels))
    for step in range(WARMUP + steps):
        if step == WARMUP:
            start = time.perf_counter()
        idx = order[(step * batch_size) % (len(labels) - batch_size) :][:batch_size]
        loss = criterion(model(images[idx]), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    synchronize()
    return steps * batch_size / (time.perf_counter() - start)


class BareModule(pl.LightningModule):
    """Lightning's floor: the same model and optimizer, no metrics, no logging, no callbacks."""

    def __init__(self, model, optimizer):
        super().__init__()
        self.model, self.optimizer_factory = model, optimizer

    def training_step(self, batch, batch_idx):
        images, labels = batch
        return getattr(self.model, "loss", F.cross_entropy)(self.model(images), labels)

    def configure_optimizers(self):
        return self.optimizer_factory(self.parameters())


def bare_lightning(cfg, images, labels, steps: int) -> float:
    with nvml_cuda_check("1"):  # as Lightning's import left it
        return _bare_lightning(cfg, images, labels, steps)


def _bare_lightning(cfg, images, labels, steps: int) -> float:
    torch.manual_seed(cfg.seed)
    timer = StepTimer(WARMUP)
    trainer = pl.Trainer(
        max_epochs=-1, max_steps=WARMUP + steps, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
    )  # fmt: skip
    batches = TensorBatches(images, labels, cfg.data.batch_size, EpochPermutation(len(labels), shuffle=True))
    trainer.fit(BareModule(instantiate(cfg.model), instantiate(cfg.optimizer)), train_dataloaders=batches)
    return timer.images_per_second()


def framework(cfg, steps: int) -> float:
    """The same training through Trainer, DataModule and LightningModule, as run.py runs it.

    run.py groups small batches into one Lightning step (`data.batches_per_step`): the warm-up and
    the timed part are whole Lightning steps here, covering about as many batches as the other
    sides' (at least one group each); the result counts images.
    """
    torch.manual_seed(cfg.seed)
    datamodule, module = build(cfg)
    per_step = datamodule.batches_per_step  # one device here: training_batches_per_step() is the same
    warmup = math.ceil(WARMUP / per_step)
    with open_dict(cfg):
        cfg.trainer.max_epochs = -1
        cfg.trainer.max_steps = warmup * per_step + steps  # optimizer steps, also when grouped
    timer = StepTimer(warmup)
    with tempfile.TemporaryDirectory() as job_dir:
        trainer = build_trainer(cfg, Path(job_dir), interactive=False, label="", extra_callbacks=[timer])
        trainer.fit(module, datamodule=datamodule)
    return timer.images_per_second()


def main() -> None:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # as in every sweep job
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the steps")
    parser.add_argument("--rows", nargs="*", help="only these models, e.g. lenet mlp")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice); 1 on a busy machine, where spinning threads of several processes slow each other down")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {DEVICE}")
    print("| model | batch | hand-written img/s | bare Lightning img/s | framework img/s | framework / hand-written (range) | framework / bare Lightning |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model, batch_size, steps in ROWS:
        if args.rows and model not in args.rows:
            continue
        steps = max(20, steps // 4) if args.quick else steps
        cfg = run_config(
            f"model={model}", f"data.batch_size={batch_size}", "epochs=1", "trainer.enable_progress_bar=false",
            "++trainer.limit_val_batches=0",
        )  # fmt: skip
        datamodule, _ = build(cfg)
        datamodule.setup("fit")
        images, labels = (t.to(DEVICE) for t in datamodule.splits["train"])  # where the Trainer will train
        runs = {"hand": [], "bare": [], "fw": []}
        sides = {
            "hand": lambda: hand_written(cfg, images, labels, steps),
            "bare": lambda: bare_lightning(cfg, images, labels, steps),
            "fw": lambda: framework(cfg, steps),
        }
        for round_ in range(REPEATS):
            for side in list(sides)[:: 1 if round_ % 2 == 0 else -1]:
                runs[side].append(sides[side]())
        hand, bare, fw = (statistics.median(runs[side]) for side in ("hand", "bare", "fw"))
        vs_hand = [f / h for f, h in zip(runs["fw"], runs["hand"])]
        vs_bare = [f / b for f, b in zip(runs["fw"], runs["bare"])]
        print(
            f"| {model} | {batch_size} | {hand:,.0f} | {bare:,.0f} | {fw:,.0f} "
            f"| {statistics.median(vs_hand):.2f} ({min(vs_hand):.2f}-{max(vs_hand):.2f}) | {statistics.median(vs_bare):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
