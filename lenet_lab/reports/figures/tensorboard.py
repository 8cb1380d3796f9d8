"""A sweep's PNG figures as TensorBoard images, so `tensorboard --logdir SWEEP` shows them too.

They go to SWEEP/figures/ (a run of its own in TensorBoard, beside the jobs' runs); written
again, they replace the earlier ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib.image
from torch.utils.tensorboard import SummaryWriter

from lenet_lab import sweep_folder

FIGURES_RUN = sweep_folder.FIGURES_RUN


def write_figure_events(pngs: list[Path], sweep_dir: Path) -> Path | None:
    pngs = [p for p in pngs if p and Path(p).is_file()]
    if not pngs:
        return None
    logdir = Path(sweep_dir) / FIGURES_RUN
    shutil.rmtree(logdir, ignore_errors=True)  # one copy of each figure, the latest
    writer = SummaryWriter(str(logdir))
    for png in pngs:
        pixels = matplotlib.image.imread(str(png))[..., :3]  # RGBA floats in [0, 1] -> RGB
        writer.add_image(Path(png).stem, pixels, 0, dataformats="HWC")
    writer.close()
    return logdir
