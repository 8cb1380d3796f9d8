"""Keep torch's "is there a GPU?" check cheap where there is no NVIDIA driver.

Importing Lightning sets `PYTORCH_NVML_BASED_CUDA_CHECK=1`, asking torch to count GPUs through
NVML so that the check doesn't initialise CUDA before a fork. torch then loads `libnvidia-ml`
on every check until CUDA is initialised, and Adam and AdamW check on every optimizer step. On a
CUDA build of torch on a machine without the NVIDIA driver (a CPU-only Linux machine with the
default pip wheel) the library is missing: each step pays a failed search for it (~50-300 us,
as much as 10% of a small model's step) and torch then asks the CUDA runtime anyway, which is
what it does without the variable (and caches). Dropping the variable there changes no answer.
"""

from __future__ import annotations

import ctypes
import os

import torch

NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"
NVML_LIBRARY = "libnvidia-ml.so.1"  # the name torch.cuda loads


def nvml_loads() -> bool:
    try:
        ctypes.CDLL(NVML_LIBRARY)
    except OSError:
        return False
    return True


def drop_nvml_check_without_driver() -> bool:
    """Remove Lightning's NVML setting when NVML can't be loaded (it would only slow every check
    down); keep it wherever a driver, and so possibly a GPU, exists. Returns whether it was removed."""
    if os.environ.get(NVML_CHECK) != "1" or not torch.backends.cuda.is_built() or nvml_loads():
        return False
    del os.environ[NVML_CHECK]
    return True
