"""A trained job's model back from its folder, built from the model node alone."""

import json

import pytest
import torch
import torch.nn.functional as F
from hydra.errors import InstantiationException
from hydra.utils import get_class

from lenet_lab.data.idx import load_split
from lenet_lab.data.pixels import to_inputs
from lenet_lab.training.trained_model import load_trained, scores_of
from tests.conftest import PROJECT

# Trained for one epoch on the suite's tiny digits (tests/conftest.py) by the code as it was before
# the layout by stage: its config names lenet_lab.data.MNISTDataModule, a path that no longer exists.
BEFORE_LAYOUT = PROJECT / "tests" / "fixtures" / "job_before_layout"


def test_a_job_saved_before_the_layout_by_stage_still_loads(mnist_root):
    trained = load_trained(BEFORE_LAYOUT)
    assert trained.cfg.data._target_ == "lenet_lab.data.MNISTDataModule"
    with pytest.raises((ImportError, InstantiationException, ValueError)):
        get_class(trained.cfg.data._target_)  # the data node could not be built: only the model node is
    images, labels = load_split(mnist_root, train=False)
    scores = scores_of(trained.model, to_inputs(images, trained.cfg.data.normalize, trained.cfg.data.pad))
    recorded = json.loads((BEFORE_LAYOUT / "metrics.json").read_text())
    # The same weights on the same test images: the loss the job recorded when it was tested.
    assert F.cross_entropy(scores, labels.long()).item() == pytest.approx(recorded["test/loss"], rel=1e-5)
    assert not trained.model.training and all(not p.requires_grad or p.device == torch.device("cpu") for p in trained.model.parameters())
