"""The one MNIST DataModule every model trains on.

IDX files (`lenet_lab.data.idx`) -> uint8 tensors, read once -> padded, normalized float tensors
on the training device (`lenet_lab.data.pixels`) -> batches by indexing (`lenet_lab.data.batches`).
Splits: the official 10,000 test images are the test set; validation is a seeded hold-out from
the 60,000 training images.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch

from lenet_lab.data.batches import BatchGroup, EpochPermutation, TensorBatches, auto_batches_per_step
from lenet_lab.data.distortions import random_affine
from lenet_lab.data.idx import ensure_mnist, load_split
from lenet_lab.data.pixels import to_inputs
from lenet_lab.errors import DataError

# The training images measured after each pass (data.train_eval_every_epoch), logged as train_eval/loss and train_eval/acc.
TRAIN_EVAL = "train_eval"


class MNISTDataModule(pl.LightningDataModule):
    def __init__(
        self,
        root: str = "data",
        download: bool = True,
        val_size: int = 5000,
        split_seed: int = 0,
        shuffle_seed: int = 0,
        normalize: str = "standard",
        pad: int = 0,
        batch_size: int = 64,
        eval_batch_size: int = 1000,
        on_device: bool = True,
        augment: bool = False,
        batches_per_step: int | None = None,
        test_every_epoch: bool = False,
        train_eval_every_epoch: bool = False,
    ):
        super().__init__()
        self.root = Path(root).expanduser()
        self.download = download
        self.val_size = val_size
        self.split_seed = split_seed
        self.shuffle_seed = shuffle_seed
        self.normalize = normalize
        self.pad = pad
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.on_device = on_device
        self.augment = augment
        self.batches_per_step = batches_per_step or auto_batches_per_step(batch_size)  # what the config asks for
        # Training batches per Lightning step: what the LightningModule found it may run when it
        # was set up for a fit (lenet_lab.training.grouped_steps); until then, what was asked for.
        self.training_group_size = self.batches_per_step
        self.test_every_epoch = test_every_epoch
        self.train_eval_every_epoch = train_eval_every_epoch
        self.checked = False
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def _ensure_files(self, download: bool) -> None:
        # Lightning asks before fit and again before test: check (55 MB of MD5) only once.
        if not self.checked:
            ensure_mnist(self.root, download)
            self.checked = True

    def prepare_data(self) -> None:
        self._ensure_files(self.download)

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        self._ensure_files(download=False)  # ranks other than 0 skip prepare_data; they never download
        train_images, train_labels = load_split(self.root, train=True)
        test_images, test_labels = load_split(self.root, train=False)
        if not 0 <= self.val_size < len(train_labels):
            raise DataError(f"data.val_size={self.val_size} must be in [0, {len(train_labels) - 1}]")

        # The hold-out depends on split_seed only, so runs with different training seeds are
        # validated on the same images.
        order = torch.randperm(len(train_labels), generator=torch.Generator().manual_seed(self.split_seed))
        val_idx, train_idx = order[: self.val_size], order[self.val_size :]
        device = self._device()

        def split(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return to_inputs(images, self.normalize, self.pad).to(device), labels.to(device)

        self.splits = {
            "train": split(train_images[train_idx], train_labels[train_idx]),
            "val": split(train_images[val_idx], train_labels[val_idx]),
            "test": split(test_images, test_labels),
        }

    def _device(self) -> torch.device:
        trainer = self.trainer
        if self.on_device and trainer is not None:
            return trainer.strategy.root_device
        return torch.device("cpu")

    def _batches(self, split: str, batch_size: int, shuffle: bool, batches_per_step: int = 1) -> TensorBatches:
        images, labels = self.splits[split]
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        # overfit_batches (debug=overfit): the same first batches every epoch. Lightning would swap a
        # DataLoader's sampler for a sequential one; these batches are cut here, so the order is kept here.
        shuffle = shuffle and not (trainer is not None and trainer.overfit_batches)
        sampler = EpochPermutation(len(labels), shuffle, self.shuffle_seed, rank, world, pad=shuffle)
        return TensorBatches(images, labels, batch_size, sampler, batches_per_step)

    def training_sample(self, n: int, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """`n` training images drawn without replacement, different each epoch, the same on every rerun."""
        images, labels = self.splits["train"]
        generator = torch.Generator().manual_seed(self.shuffle_seed * 1_000_003 + epoch)
        idx = torch.randperm(len(labels), generator=generator)[:n].to(images.device)
        return images[idx], labels[idx]

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        # Training batches only, on the device, after they got there: fresh distortions every epoch.
        if self.augment and self.trainer is not None and self.trainer.training:
            if isinstance(batch, BatchGroup):  # a group of batches, one optimizer step each
                return [(random_affine(images), labels) for images, labels in batch]
            images, labels = batch
            return random_affine(images), labels
        return batch

    def train_dataloader(self) -> TensorBatches:
        return self._batches("train", self.batch_size, shuffle=True, batches_per_step=self.training_group_size)

    @property
    def validation_splits(self) -> list[str]:
        """What each validation dataloader holds, in order: the hold-out, and the test set when it
        is to be measured after every epoch too (a paper's test error curve), and the training images
        as the 1998 paper plots its training error: all of them, after the pass, weights fixed, no
        distortions (`train_eval`; the running `train/acc` is measured while the weights move)."""
        return ["val"] * bool(self.val_size) + ["test"] * self.test_every_epoch + [TRAIN_EVAL] * self.train_eval_every_epoch

    def val_dataloader(self) -> list[TensorBatches]:
        # An empty list tells Lightning there is nothing to validate (val_size=0, as in 1998).
        return [self._batches("train" if split == TRAIN_EVAL else split, self.eval_batch_size, shuffle=False) for split in self.validation_splits]

    def test_dataloader(self) -> TensorBatches:
        return self._batches("test", self.eval_batch_size, shuffle=False)
