"""A sweep's PNG figures as TensorBoard images, so `tensorboard --logdir SWEEP` shows them too.

They go to SWEEP/figures/ (a run of its own in TensorBoard, beside the jobs' runs); written
again, they replace the earlier ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from torch.utils.tensorboard import SummaryWriter

from lenet_lab import sweep_folder

FIGURES_RUN = sweep_folder.FIGURES_RUN


def write_figure_events(images: dict[str, np.ndarray], sweep_dir: Path) -> Path | None:
    """`images` ({"curves.png": RGB uint8 pixels}) as TensorBoard images named by their file's stem."""
    if not images:
        return None
    logdir = Path(sweep_dir) / FIGURES_RUN
    shutil.rmtree(logdir, ignore_errors=True)  # one copy of each figure, the latest
    writer = SummaryWriter(str(logdir))
    for name, pixels in images.items():
        writer.add_image(Path(name).stem, pixels, 0, dataformats="HWC")
    writer.close()
    return logdir
