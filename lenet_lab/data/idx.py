"""The four MNIST IDX files: where they are, whether they are the real ones, and reading them.

`ensure_mnist` finds them in `root/MNIST/raw/` (downloading them where allowed and possible) and
checks each one's header and size, and the published MD5 of the full-size files; a missing or
wrong file is a DataError that says what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
from pathlib import Path

import torch
from torchvision.datasets import MNIST

from lenet_lab.errors import DataError

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
