"""Training throughput: the framework as run.py trains vs a minimal hand-written PyTorch loop.

    python benchmarks/throughput.py            # all rows (~20 minutes on 2 CPU cores)
    python benchmarks/throughput.py --quick    # fewer steps
    python benchmarks/throughput.py --compile  # every side torch.compile'd (model.compile=true)

All sides use the same model config, initial weights, data tensors, optimizer and batch size, in
one process. The hand-written loop runs interleaved with the Lightning runs: after every ~4,096
images trained through Lightning, the hand-written loop trains on as many, and each side's clock
leaves the other's time out. On a shared machine whose speed drifts by +-30% over minutes, two
sides timed milliseconds apart see the same machine; two runs timed one after the other don't.
"framework" is Trainer + MNISTDataModule + Classifier with metrics, logging, checkpointing and
divergence checks on, built by the same code as run.py. "bare Lightning" is Lightning's own
floor: a Trainer and a LightningModule that only returns the loss, fed the same in-memory
batches; what lies between it and the hand-written loop is Lightning's per-step cost, not
lenet_lab's. Five rounds (framework run, bare run; the order alternates); the table shows the
median round's ratio and the range over rounds, img/s the median of each column.
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

from lenet_lab.data.batches import EpochPermutation, TensorBatches
from lenet_lab.training.train import build, build_model, build_trainer, compile_model

# (model, batch size, optimizer steps timed): a few seconds each on a CPU, across epoch ends where
# an epoch is shorter (the framework's epoch-end work, e.g. its checkpoint, is timed with it).
# Shorter runs let this machine's noise (+-20% between two one-second runs) decide the ratio.
# The first steps of each run are warm-up and not timed.
ROWS = [
    ("lenet", 64, 1500), ("lenet", 256, 500), ("mlp", 64, 4000), ("mlp", 256, 1500), ("resnet18", 64, 60),
    ("lenet", 1, 3000), ("lenet5_1998", 1, 3000),  # batch size 1: 60,000 steps an epoch
]  # fmt: skip
WARMUP = 20
REPEATS = 5  # rounds


class HandWritten:
    """The loop a user would write: index a batch, forward, loss, backward, step. Its own model
    (the same initial weights), optimizer and shuffled order, trained a chunk at a time."""

    def __init__(self, cfg, images, labels):
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg.model).to(images.device)
        if cfg.model.compile:
            self.model.compile()  # as train() compiles (model.compile=true); the warm-up below pays for it
        self.optimizer = instantiate(cfg.optimizer)(self.model.parameters())
        self.criterion = getattr(self.model, "loss", F.cross_entropy)  # the 1998 LeNet-5 brings its MAP loss
        self.images, self.labels, self.batch_size = images, labels, cfg.data.batch_size
        self.order = torch.randperm(len(labels), device=images.device)
        self.step, self.images_trained, self.seconds = 0, 0, 0.0
        self.train(WARMUP * self.batch_size)  # warm-up, not counted
        self.images_trained, self.seconds = 0, 0.0

    def train(self, images: int) -> float:
        """Train on `images` images (whole batches); returns the seconds it took. Runs as a script
        that never imported Lightning would (which changes how torch checks for CUDA every Adam step)."""
        steps, batch_size, n = max(1, round(images / self.batch_size)), self.batch_size, len(self.labels)
        with nvml_cuda_check(None):
            synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                idx = self.order[(self.step * batch_size) % (n - batch_size) :][:batch_size]
                loss = self.criterion(self.model(self.images[idx]), self.labels[idx])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.step += 1
            synchronize()
            seconds = time.perf_counter() - start
        self.images_trained += steps * batch_size
        self.seconds += seconds
        return seconds

    def images_per_second(self) -> float:
        return self.images_trained / self.seconds


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


def bare_lightning(cfg, images, labels, steps: int) -> tuple[float, float]:
    """img/s of bare Lightning and of the hand-written loop interleaved with it."""
    hand = HandWritten(cfg, images, labels)
    torch.manual_seed(cfg.seed)
    timer = StepTimer(WARMUP, interleave=hand.train)
    trainer = pl.Trainer(
        max_epochs=-1, max_steps=WARMUP + steps, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
    )  # fmt: skip
    batches = TensorBatches(images, labels, cfg.data.batch_size, EpochPermutation(len(labels), shuffle=True))
    model = build_model(cfg.model)
    if cfg.model.compile:
        model.compile()
    with nvml_cuda_check("1"):  # as Lightning's import left it
        trainer.fit(BareModule(model, instantiate(cfg.optimizer)), train_dataloaders=batches)
    return timer.images_per_second(), hand.images_per_second()


def framework(cfg, images, labels, steps: int) -> tuple[float, float]:
    """img/s of the same training through Trainer, DataModule and LightningModule, as run.py runs
    it, and of the hand-written loop interleaved with it.

    run.py groups small batches into one Lightning step (`data.batches_per_step`): the warm-up is
    whole Lightning steps here (at least one group), the timed part `steps` optimizer steps.
    """
    hand = HandWritten(cfg, images, labels)
    torch.manual_seed(cfg.seed)
    datamodule, module = build(cfg)
    compile_model(module, cfg)
    per_step = datamodule.batches_per_step  # one device here: the group size grouped_steps allows is the same
    warmup = math.ceil(WARMUP / per_step)
    with open_dict(cfg):
        cfg.trainer.max_epochs = -1
        cfg.trainer.max_steps = warmup * per_step + steps  # optimizer steps, also when grouped
    timer = StepTimer(warmup, interleave=hand.train)
    with tempfile.TemporaryDirectory() as job_dir:
        trainer = build_trainer(cfg, Path(job_dir), interactive=False, label="", extra_callbacks=[timer])
        trainer.fit(module, datamodule=datamodule)
    return timer.images_per_second(), hand.images_per_second()


def main() -> None:
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # as in every sweep job
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the steps")
    parser.add_argument("--rows", nargs="*", help="only these models, e.g. lenet mlp")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"rounds per row (default {REPEATS})")
    parser.add_argument("--compile", action="store_true", help="model.compile=true: every side trains a torch.compile'd model (compilation in the untimed warm-up)")
    parser.add_argument("--batch", type=int, nargs="*", help="only these batch sizes")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice); 1 on a busy machine, where spinning threads of several processes slow each other down")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {DEVICE}{', compiled (model.compile=true)' if args.compile else ''}")
    print("| model | batch | hand-written img/s | bare Lightning img/s | framework img/s | framework / hand-written (range) | framework / bare Lightning |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model, batch_size, steps in ROWS:
        if (args.rows and model not in args.rows) or (args.batch and batch_size not in args.batch):
            continue
        steps = max(20, steps // 4) if args.quick else steps
        cfg = run_config(
            f"model={model}", f"data.batch_size={batch_size}", "epochs=1", "trainer.enable_progress_bar=false",
            "++trainer.limit_val_batches=0", f"model.compile={args.compile}",
        )  # fmt: skip
        datamodule, _ = build(cfg)
        datamodule.setup("fit")
        images, labels = (t.to(DEVICE) for t in datamodule.splits["train"])  # where the Trainer will train
        rounds = []  # (framework, hand beside it, bare, hand beside it)
        for round_ in range(args.repeats):
            if round_ % 2 == 0:
                fw, bare = framework(cfg, images, labels, steps), bare_lightning(cfg, images, labels, steps)
            else:
                bare, fw = bare_lightning(cfg, images, labels, steps), framework(cfg, images, labels, steps)
            rounds.append((*fw, *bare))
        vs_hand = [f / h for f, h, _, _ in rounds]
        vs_bare = [(f / h) / (b / hb) for f, h, b, hb in rounds]
        fw, hand, bare = (statistics.median(r[i] for r in rounds) for i in (0, 1, 2))
        print(
            f"| {model} | {batch_size} | {hand:,.0f} | {bare:,.0f} | {fw:,.0f} "
            f"| {statistics.median(vs_hand):.2f} ({min(vs_hand):.2f}-{max(vs_hand):.2f}) | {statistics.median(vs_bare):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
