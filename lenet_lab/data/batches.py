"""Batches cut from tensors that already sit in memory (on the training device when possible).

MNIST is 47 MB as uint8: decoding it once and slicing batches out of one tensor skips the
per-image PIL decode, transform and collate that a `DataLoader` over torchvision's dataset pays
for every image. Lightning accepts any sized iterable as a dataloader.
"""

from __future__ import annotations

import math

import torch


def cut(tensor: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """`tensor[idx]` for a 1-D index into the first dimension. `index_select` copies whole rows
    where advanced indexing computes every element's offset: a third of the CPU time for a batch of
    256 MNIST images (benchmarks/README.md), ~3% of an MLP's step."""
    return torch.index_select(tensor, 0, idx)


class EpochPermutation:
    """The order of the examples in one epoch: a seeded shuffle, split between devices.

    Lightning calls `set_epoch` on a loader's `sampler` at the start of every epoch (also after
    a resume), so epoch `e` always sees the same order for the same seed.
    """

    def __init__(self, n: int, shuffle: bool, seed: int = 0, rank: int = 0, world_size: int = 1, pad: bool = True):
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.pad = pad
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        if self.pad:
            return math.ceil(self.n / self.world_size)
        return len(range(self.rank, self.n, self.world_size))

    def indices(self) -> torch.Tensor:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.n, generator=generator)
        else:
            order = torch.arange(self.n)
        if self.world_size > 1:
            if self.pad:
                # Training: wrap around so every device runs the same number of steps, as
                # DistributedSampler does; otherwise one device waits forever in a collective.
                order = torch.cat([order, order[: len(self) * self.world_size - self.n]])
            # Evaluation: no padding, so no image is counted twice in the accuracy.
            order = order[self.rank :: self.world_size]
        return order


class BatchGroup:
    """The batches of one Lightning step, each cut from the tensors when training reaches it.

    Cutting a whole group at once (one gather of ~4,096 images, 13 MB as float) and training on
    views of it reads every batch back from main memory; cutting each just before its step keeps
    it in the CPU's cache, as a hand-written loop does (~5% of a small model's step on a CPU).
    Lightning moves a batch to the training device by calling its `to`: here that only says
    where each batch goes when it is cut (data kept off the device, `data.on_device=false`).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, indices: torch.Tensor, batch_size: int, device: torch.device | None = None):
        self.images, self.labels, self.indices = images, labels, indices
        self.batch_size = batch_size
        self.device = device

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __iter__(self):
        for idx in self.indices.split(self.batch_size):
            images, labels = cut(self.images, idx), cut(self.labels, idx)
            if self.device is not None and images.device != self.device:
                images, labels = images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)
            yield images, labels

    def to(self, device, *args, **kwargs) -> BatchGroup:
        return BatchGroup(self.images, self.labels, self.indices, self.batch_size, torch.device(device))


class TensorBatches:
    """Iterates over `(images[idx], labels[idx])` batches in the order of its `sampler`.

    With `batches_per_step` k > 1 it yields a `BatchGroup` of k such batches instead: the training
    module then runs k optimizer steps per Lightning step (see `Classifier`). Lightning spends a
    fraction of a millisecond on every step it drives, which at batch size 1 (60,000 steps an
    epoch) costs as much as the training itself; grouping pays it once per k steps. Same batches,
    same order.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, sampler: EpochPermutation, batches_per_step: int = 1):
        self.images, self.labels = images, labels
        self.batch_size = batch_size
        self.batches_per_step = batches_per_step
        self.sampler = sampler
        # Lightning inspects `sampler` and `batch_sampler` as on a DataLoader; batches are cut here.
        self.batch_sampler = None

    def __len__(self) -> int:
        return math.ceil(len(self.sampler) / (self.batch_size * self.batches_per_step))

    def __iter__(self):
        order = self.sampler.indices().to(self.images.device)
        step = self.batch_size * self.batches_per_step
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            if self.batches_per_step == 1:
                yield cut(self.images, idx), cut(self.labels, idx)
            else:
                yield BatchGroup(self.images, self.labels, idx, self.batch_size)


IMAGES_PER_STEP = 4096


def auto_batches_per_step(batch_size: int) -> int:
    """Training batches per Lightning step when not set: about 4,096 images, so that Lightning's
    per-step cost (~0.5 ms on a CPU, its hooks, callbacks and batch transfer) is paid once per
    ~4,096 images whatever the batch size (4,096 steps at batch size 1, 64 at 64, 16 at 256, 1 from
    4,096 up). At ~1,024 images it still cost the MLP at batch 256 ~10% of its throughput.
    Measured in benchmarks/throughput.py."""
    return max(1, IMAGES_PER_STEP // batch_size)
