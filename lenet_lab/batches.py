"""Batches cut from tensors that already sit in memory (on the training device when possible).

MNIST is 47 MB as uint8: decoding it once and slicing batches out of one tensor skips the
per-image PIL decode, transform and collate that a `DataLoader` over torchvision's dataset pays
for every image. Lightning accepts any sized iterable as a dataloader.
"""

from __future__ import annotations

import math

import torch


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


class TensorBatches:
    """Iterates over `(images[idx], labels[idx])` batches in the order of its `sampler`.

    With `batches_per_step` k > 1 it yields lists of k such batches instead: the training module
    then runs k optimizer steps per Lightning step (see `Classifier`). Lightning spends a fraction
    of a millisecond on every step it drives, which at batch size 1 (60,000 steps an epoch) costs
    as much as the training itself; grouping pays it once per k steps. Same batches, same order.
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
            idx = order[start : start + step]  # one gather for the whole group, then views of it
            images, labels = self.images[idx], self.labels[idx]
            if self.batches_per_step == 1:
                yield images, labels
            else:
                yield list(zip(images.split(self.batch_size), labels.split(self.batch_size)))
