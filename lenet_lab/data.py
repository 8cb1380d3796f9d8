"""The one MNIST DataModule every model trains on.

IDX files -> uint8 tensors (torchvision's reader, once) -> padded, normalized float tensors on the
training device -> batches by indexing. Splits: the official 10,000 test images are the test
set; validation is a seeded hold-out from the 60,000 training images.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
from pathlib import Path

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torchvision.datasets import MNIST

from lenet_lab.batches import BatchGroup, EpochPermutation, TensorBatches
from lenet_lab.distortions import random_affine
from lenet_lab.errors import DataError
from lenet_lab.pixels import NORMALIZATIONS

# name -> (IDX magic number, published MD5 of the uncompressed original)
RAW_FILES = {
    "train-images-idx3-ubyte": (2051, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (2049, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (2051, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (2049, "27ae3e4e09519cfbb04c329615203637"),
}
OFFICIAL_COUNTS = (60_000, 10_000)


def check_idx(path: Path) -> None:
    """Raise DataError if `path` is not the IDX file its name promises.

    The header must carry the right magic number and describe exactly the bytes that follow. A
    file the size of the official set must also match its published MD5 (smaller sets, like the
    tests' own, can't be checked that way).
    """
    magic, published_md5 = RAW_FILES[path.name]
    data = path.read_bytes()
    fix = "replace it with the original MNIST file (README.md, section Data)"
    if len(data) < 8 or int.from_bytes(data[:4], "big") != magic:
        found = int.from_bytes(data[:4], "big") if len(data) >= 4 else "none"
        raise DataError(f"{path} is not an MNIST IDX file: magic number {found}, expected {magic}; {fix}")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = 4 + 4 * ndim + math.prod(dims)
    if len(data) != expected:
        raise DataError(f"{path} is {len(data)} bytes but its header ({'x'.join(map(str, dims))}) says {expected}: truncated or corrupt; {fix}")
    if dims[0] in OFFICIAL_COUNTS and hashlib.md5(data).hexdigest() != published_md5:
        raise DataError(f"{path} has MD5 {hashlib.md5(data).hexdigest()}, not the published {published_md5}: modified or corrupt; {fix}")


def missing_files(root: str | Path) -> list[str]:
    raw = Path(root) / "MNIST" / "raw"
    return [name for name in RAW_FILES if not (raw / name).is_file()]


def check_files(root: str | Path) -> None:
    raw = Path(root) / "MNIST" / "raw"
    for name in RAW_FILES:
        check_idx(raw / name)


def ensure_mnist(root: str | Path, download: bool) -> None:
    """Make sure the four IDX files are in `root/MNIST/raw/`, downloading them if allowed."""
    missing = missing_files(root)
    if not missing:
        check_files(root)
        return
    reason = "download is off (data.download=false)"
    if download:
        try:
            # torchvision prints every mirror it tries; the one line below says it all.
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                MNIST(str(root), train=True, download=True)
            check_files(root)
            return
        except Exception as error:  # offline: URLError wrapped in RuntimeError
            reason = f"download failed ({str(error).strip().splitlines()[-1].strip()})"
    raw = (Path(root) / "MNIST" / "raw").resolve()
    raise DataError(
        f"MNIST files missing in {raw}: {', '.join(missing)}; {reason}. "
        f"Fix: copy the four uncompressed IDX files into that folder, or point data.root "
        f"(or the LENET_LAB_DATA environment variable) at a folder that has MNIST/raw/."
    )


def load_split(root: str | Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The uint8 images [N, 28, 28] and int64 labels [N] of the official train or test split."""
    try:
        dataset = MNIST(str(root), train=train, download=False)
    except Exception as error:
        split = "train" if train else "t10k"
        raise DataError(f"cannot read the MNIST {split} files in {Path(root) / 'MNIST' / 'raw'}: {error}") from error
    return dataset.data, dataset.targets


def to_inputs(images: torch.Tensor, normalize: str, pad: int) -> torch.Tensor:
    """uint8 [N, 28, 28] -> float [N, 1, 28 + 2 pad, 28 + 2 pad].

    Padding happens on raw pixels, so the border gets the background value of every scaling.
    """
    if normalize not in NORMALIZATIONS:
        raise DataError(f"unknown data.normalize={normalize!r}; choose one of {', '.join(NORMALIZATIONS)}")
    x = images.unsqueeze(1)
    if pad:
        x = F.pad(x, (pad, pad, pad, pad))
    scale, shift = NORMALIZATIONS[normalize]
    return x.float().mul_(scale / 255).add_(shift)


IMAGES_PER_STEP = 4096


def auto_batches_per_step(batch_size: int) -> int:
    """Training batches per Lightning step when not set: about 4,096 images, so that Lightning's
    per-step cost (~0.5 ms on a CPU, its hooks, callbacks and batch transfer) is paid once per
    ~4,096 images whatever the batch size (4,096 steps at batch size 1, 64 at 64, 16 at 256, 1 from
    4,096 up). At ~1,024 images it still cost the MLP at batch 256 ~10% of its throughput.
    Measured in benchmarks/throughput.py."""
    return max(1, IMAGES_PER_STEP // batch_size)


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
        self.batches_per_step = batches_per_step or auto_batches_per_step(batch_size)
        self.test_every_epoch = test_every_epoch
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

    def training_batches_per_step(self) -> int:
        """`batches_per_step`, unless the run needs Lightning to drive every batch itself: with
        several devices (gradients are synchronised once per backward pass of a step), Lightning's
        gradient clipping or accumulation (features of its automatic optimization), or limits that
        Lightning counts in loader items and a user gives in batches (`limit_train_batches`, an
        integer `val_check_interval`)."""
        trainer = self.trainer
        if trainer is None:
            return self.batches_per_step
        limit = trainer.limit_train_batches  # 1.0: all of them; the integer 1: one batch
        counted_in_batches = isinstance(limit, int) or limit != 1.0 or isinstance(trainer.val_check_interval, int)
        if trainer.world_size > 1 or trainer.gradient_clip_val or trainer.accumulate_grad_batches > 1 or counted_in_batches:
            return 1
        return self.batches_per_step

    def train_dataloader(self) -> TensorBatches:
        return self._batches("train", self.batch_size, shuffle=True, batches_per_step=self.training_batches_per_step())

    @property
    def validation_splits(self) -> list[str]:
        """What each validation dataloader holds, in order: the hold-out, and the test set when it
        is to be measured after every epoch too (a paper's test error curve)."""
        return ["val"] * bool(self.val_size) + ["test"] * self.test_every_epoch

    def val_dataloader(self) -> list[TensorBatches]:
        # An empty list tells Lightning there is nothing to validate (val_size=0, as in 1998).
        return [self._batches(split, self.eval_batch_size, shuffle=False) for split in self.validation_splits]

    def test_dataloader(self) -> TensorBatches:
        return self._batches("test", self.eval_batch_size, shuffle=False)
