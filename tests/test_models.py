import pytest
import torch

from lenet_lab.models.lenet import LeNet5
from lenet_lab.training.train import build_model

# The parameter counts the reference write-ups publish; the test builds each model from its config file, as run.py does.
PARAMS = {
    "lenet": 61_706,
    "lenet_keras": 51_902,
    "lenet_classic": 61_706,
    "mlp": 104_938,
    "resnet18": 11_175_370,
}


def trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", PARAMS)
def test_model_config_builds_the_published_network(compose_config, name):
    cfg = compose_config(f"model={name}")
    model = build_model(cfg.model)
    assert trainable(model) == PARAMS[name]
    side = 28 + 2 * cfg.data.pad  # the input the config's data settings produce
    assert model(torch.randn(3, 1, side, side)).shape == (3, 10)


def test_lenet_options_change_the_layers():
    classic = LeNet5(activation="sigmoid", pool="avg")
    kinds = {type(m).__name__ for m in classic.modules()}
    assert {"Sigmoid", "AvgPool2d"} <= kinds and not {"ReLU", "MaxPool2d"} & kinds
    with pytest.raises(ValueError, match="relu"):
        LeNet5(activation="gelu")


def test_resnet_small_stem_keeps_resolution(compose_config):
    cfg = compose_config("model=resnet18", "model.stem=small")
    model = build_model(cfg.model)
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, torch.nn.Identity)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_mlp_hidden_sizes_are_configurable(compose_config):
    model = build_model(compose_config("model=mlp", "model.hidden=[64]").model)
    assert trainable(model) == 784 * 64 + 64 + 64 * 10 + 10


def test_lenet_batch_norm_dropout_and_widths():
    plain, normed = LeNet5(), LeNet5(batch_norm=True, dropout=0.25, channels=(12, 24), hidden=(84, 32))
    convs = [m for m in normed.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [12, 24] and all(c.bias is None for c in convs)  # batch norm's shift replaces the bias
    assert [m.num_features for m in normed.modules() if isinstance(m, torch.nn.BatchNorm2d)] == [12, 24]
    assert [m.p for m in normed.modules() if isinstance(m, torch.nn.Dropout)] == [0.25, 0.25]
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.Dropout)) for m in plain.modules())
    assert trainable(normed) == 12 * 25 + 2 * 12 + 12 * 24 * 25 + 2 * 24 + 600 * 84 + 84 + 84 * 32 + 32 + 32 * 10 + 10
    assert normed(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="dropout"):
        LeNet5(dropout=1.0)


def test_best_lenet_keeps_lenet5s_structure_within_62k_parameters(compose_config):
    model = build_model(compose_config("+experiment=best_lenet").model)
    kinds = [type(m).__name__ for m in model.modules()]
    assert trainable(model) <= 62_000
    assert kinds.count("Conv2d") == 2 and kinds.count("MaxPool2d") == 2 and kinds.count("Linear") == 3
    assert all(m.kernel_size == (5, 5) for m in model.modules() if isinstance(m, torch.nn.Conv2d))
