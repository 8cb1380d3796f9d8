"""Checkpoints written atomically: a job killed while saving one keeps the one before, whole.

Lightning's own writer (TorchCheckpointIO) writes the local file through fsspec, whose temporary
file is in the system's temp folder: it is moved into place by a copy when that folder is on another
file system, and a kill during the copy leaves half a last.ckpt, which no rerun can resume from.
"""

from __future__ import annotations

import os

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from lenet_lab.job_folder import write_atomically


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        if storage_options is not None or "://" in str(path):  # another store (s3://...): Lightning's writer
            return super().save_checkpoint(checkpoint, path, storage_options)
        write_atomically(os.fspath(path), lambda f: torch.save(checkpoint, f), binary=True)
