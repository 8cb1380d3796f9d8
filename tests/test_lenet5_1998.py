"""The 1998 LeNet-5: the paper's parameter count, connection table, bitmaps and loss."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from lenet_lab.models.lenet5_1998 import C3_TABLE, LeNet5_1998, digit_bitmaps  # noqa: E402
from lenet_lab.training.train import build_model  # noqa: E402


def trainable(module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_exactly_60000_trainable_parameters_layer_by_layer():
    model = LeNet5_1998()
    per_layer = {name: trainable(getattr(model, name)) for name in ("c1", "s2", "c3", "s4", "c5", "f6", "output")}
    assert per_layer == {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120, "f6": 10164, "output": 0}
    assert trainable(model) == 60_000
    assert trainable(LeNet5_1998(head="softmax")) == 60_000 + 84 * 10 + 10


def test_c3_reads_only_the_maps_of_its_table():
    model = LeNet5_1998()
    x = torch.zeros(1, 6, 14, 14)
    x[:, 5] = 1.0  # only S2 map 5 is on
    out = model.c3(x) - model.c3(torch.zeros_like(x))
    reads_map_5 = {k for k, inputs in enumerate(C3_TABLE) if 5 in inputs}
    changed = {k for k in range(16) if out[0, k].abs().sum() > 0}
    assert changed == reads_map_5


@pytest.mark.parametrize("init, f", [("fan_in", lambda n: n), ("sqrt_fan_in", lambda n: n**0.5)])
def test_init_is_uniform_within_2_4_over_f_of_fan_in(init, f):
    model = LeNet5_1998(init=init)
    assert model.c1.weight.abs().max() <= 2.4 / f(25) and model.f6.weight.abs().max() <= 2.4 / f(120)
    assert model.c5.weight.abs().max() <= 2.4 / f(400) and model.c5.weight.abs().max() > 0.5 * 2.4 / f(400)
    # C3: kernels of a map reading 3 inputs may be larger than those of the map reading all 6.
    assert model.c3.weight[:3].abs().max() <= 2.4 / f(75) and model.c3.weight[-6:].abs().max() <= 2.4 / f(150)
    assert model.c3.weight[:3].abs().max() > 2.4 / f(150)


def test_bitmaps_are_ten_distinct_minus_one_plus_one_digits(tmp_path):
    bitmaps = digit_bitmaps()
    assert bitmaps.shape == (10, 12, 7) and set(bitmaps.unique().tolist()) == {-1.0, 1.0}
    assert len({tuple(b.flatten().tolist()) for b in bitmaps}) == 10
    # Drawn for a reader to check: tmp_path/rbf_bitmaps.png (pytest --basetemp=DIR keeps it).
    fig, axes = plt.subplots(1, 10, figsize=(10, 2))
    for digit, ax in enumerate(axes):
        ax.imshow(bitmaps[digit].numpy(), cmap="gray_r")
        ax.set_title(str(digit))
        ax.axis("off")
    fig.savefig(tmp_path / "rbf_bitmaps.png")
    assert (tmp_path / "rbf_bitmaps.png").stat().st_size > 0


def test_scores_are_minus_rbf_penalties_and_loss_is_the_map_criterion():
    model = LeNet5_1998(map_j=0.1)
    with torch.no_grad():
        scores = model(torch.randn(4, 1, 32, 32))
    assert scores.shape == (4, 10) and (scores <= 0).all()
    labels = torch.tensor([0, 3, 7, 9])
    penalties = -scores
    expected = penalties[torch.arange(4), labels] + torch.log(torch.exp(torch.tensor(-0.1)) + torch.exp(-penalties).sum(1))
    assert model.loss(scores, labels) == pytest.approx(expected.mean().item(), rel=1e-5)
    # A sample whose features sit on its digit's bitmap has the best score for that digit.
    f6_on_bitmap = digit_bitmaps()[7].flatten()[None]
    assert model.output(f6_on_bitmap).argmax().item() == 7


def test_softmax_head_uses_cross_entropy():
    model = LeNet5_1998(head="softmax")
    with torch.no_grad():
        scores = model(torch.randn(2, 1, 32, 32))
    labels = torch.tensor([1, 2])
    assert model.loss(scores, labels) == pytest.approx(F.cross_entropy(scores, labels).item())


def test_config_builds_it_with_the_papers_input(compose_config):
    cfg = compose_config("model=lenet5_1998")
    assert cfg.data.pad == 2 and cfg.data.normalize == "lecun"
    assert trainable(build_model(cfg.model)) == 60_000


def test_trains_through_the_framework_with_its_own_loss(compose_config, tmp_path):
    from lenet_lab.training.train import train

    cfg = compose_config("model=lenet5_1998", "optimizer=sgd", "optimizer.lr=0.01", "data.batch_size=4", "epochs=1", "threads=1")
    metrics = train(cfg, tmp_path)
    assert metrics["status"] == "completed" and metrics["num_params"] == 60_000
    assert metrics["train/loss"] > 0
