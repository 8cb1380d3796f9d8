"""Tiny MNIST-shaped IDX files and config composition shared by the tests."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import lenet_lab.startup  # noqa: F401  (as every entry point: the config's resolvers and schema)

PROJECT = Path(__file__).resolve().parents[1]
TINY_TRAIN, TINY_TEST = 120, 40


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX: magic (0, 0, type 0x08 = ubyte, number of dims), big-endian dims, then the bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def tiny_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable stand-ins for digits: a bright 4x4 block whose position encodes the label."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 30, size=(n, 28, 28))
    for image, label in zip(images, labels):
        row, col = 4 + 4 * (label // 5), 2 + 5 * (label % 5)
        image[row : row + 4, col : col + 4] = 255
    return images, labels


def make_mnist_root(root: Path, digits=tiny_digits, n_train: int = TINY_TRAIN, n_test: int = TINY_TEST) -> Path:
    """MNIST/raw/ under `root` with `digits(n, seed) -> (images, labels)` as training and test sets."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = digits(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory) -> Path:
    return make_mnist_root(tmp_path_factory.mktemp("tiny_mnist"))


@pytest.fixture
def compose_config(mnist_root):
    """compose(*overrides) -> the run's config as `python run.py OVERRIDES` would build it, on tiny data."""

    def _compose(*overrides: str):
        with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
            return compose("config", overrides=[f"data.root={mnist_root}", "data.val_size=20", *overrides])

    return _compose
