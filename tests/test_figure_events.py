"""A sweep file's figures reach TensorBoard from memory, pixel for pixel what the PNG files hold."""

import io

import matplotlib.image
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import IMAGES, EventAccumulator

from lenet_lab import sweep_folder
from lenet_lab.aggregate import aggregate
from tests.test_aggregate import fake_row_job


def test_the_figures_in_tensorboard_are_the_png_files(tmp_path):
    rows = {"sgd": {"overrides": ["optimizer=sgd"], "published": {"test/acc": 88.0}}, "adam": {"overrides": ["optimizer=adam"], "published": {"test/acc": 97.0}}}
    fake_row_job(tmp_path / "0_sgd", "sgd", ["optimizer=sgd", "seed=1"], (0.80, 0.85, 0.90), rows)
    fake_row_job(tmp_path / "1_adam", "adam", ["optimizer=adam", "seed=1"], (0.96, 0.97, 0.98), rows)
    aggregate([tmp_path], formats=("csv",))
    events = EventAccumulator(str(tmp_path / sweep_folder.FIGURES_RUN), size_guidance={IMAGES: 0}).Reload()
    names = [sweep_folder.CURVES_PNG, sweep_folder.TEST_ACC_PNG, sweep_folder.PUBLISHED_PNG, sweep_folder.ROW_CURVES_PNG]
    assert {name.removesuffix(".png") for name in names} <= set(events.Tags()[IMAGES])
    for name in names:
        image = events.Images(name.removesuffix(".png"))[-1]
        logged = matplotlib.image.imread(io.BytesIO(image.encoded_image_string))[..., :3]
        written = matplotlib.image.imread(str(tmp_path / name))[..., :3]
        assert logged.shape == written.shape and np.abs(logged - written).max() < 1 / 255 + 1e-6, name
