"""Every option of every config group composes and instantiates, as the command lines use them."""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from lenet_lab.config.resolvers import unique_dir
from lenet_lab.optim.schedules import PiecewiseConstantLR
from tests.conftest import PROJECT


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (PROJECT / "conf" / group).glob("*.yaml"))


def test_groups_offer_what_the_readme_promises():
    assert options("optimizer") == sorted(["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "sdlm"])
    assert options("lr_scheduler") == sorted(["none", "step", "multistep", "piecewise", "lecun1998", "cosine"])
    assert set(options("model")) >= {"lenet", "lenet_keras", "lenet_classic", "mlp", "resnet18"}


@pytest.mark.parametrize("name", options("optimizer"))
def test_optimizer_configs_build_optimizers(compose_config, name):
    cfg = compose_config(f"optimizer={name}", "optimizer.lr=0.123")
    optimizer = instantiate(cfg.optimizer)([torch.nn.Parameter(torch.zeros(2))])
    assert isinstance(optimizer, torch.optim.Optimizer)
    assert optimizer.param_groups[0]["lr"] == 0.123


@pytest.mark.parametrize("name", options("lr_scheduler"))
def test_scheduler_configs_build_schedulers(compose_config, name):
    table = ["lr_scheduler.values=[[1,0.1],[3,0.01]]"] if name == "piecewise" else []  # piecewise has no table of its own
    cfg = compose_config(f"lr_scheduler={name}", "epochs=20", *table)
    if name == "none":
        assert not cfg.get("lr_scheduler")
        return
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    scheduler = instantiate(cfg.lr_scheduler)(optimizer)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)


def test_lecun1998_is_the_papers_schedule(compose_config):
    cfg = compose_config("lr_scheduler=lecun1998")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
    scheduler = instantiate(cfg.lr_scheduler)(optimizer)
    rates = []
    for _ in range(20):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == [5e-4] * 2 + [2e-4] * 3 + [1e-4] * 3 + [5e-5] * 4 + [1e-5] * 8


def test_piecewise_table_must_start_at_epoch_one():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
    with pytest.raises(ValueError, match="epoch 1"):
        PiecewiseConstantLR(optimizer, [[2, 0.1]])


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["model=mlp", "optimizer=sgd", "optimizer.lr=0.01", "epochs=3"],
        ["lr_scheduler=multistep"],
        ["trainer.accelerator=cpu", "trainer.devices=1"],
        ["++trainer.limit_train_batches=10"],
        ["seed=3"],
    ],
)
def test_documented_command_lines_compose(compose_config, overrides):
    cfg = compose_config(*overrides)
    trainer_kwargs = {k: v for k, v in cfg.trainer.items() if k != "_target_"}
    assert trainer_kwargs["max_epochs"] == cfg.epochs
    for override in overrides:
        key, value = override.lstrip("+").split("=")
        selected = OmegaConf.select(cfg, key)
        if OmegaConf.is_config(selected):  # a group choice, e.g. model=mlp: that file's object
            option = OmegaConf.load(PROJECT / "conf" / key / f"{value}.yaml")
            assert selected._target_ == option.get(key, option)._target_
        else:
            assert str(selected) == value


def test_speedrun_experiment_overrides_groups_and_values():
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["+experiment=speedrun"])
        assert compose("config", overrides=["+experiment=speedrun", "epochs=6"]).lr_scheduler.T_max == 6  # still overridable
    assert cfg.lr_scheduler._target_.endswith("CosineAnnealingLR") and cfg.lr_scheduler.T_max == cfg.epochs == 4
    assert cfg.data.batch_size == 256 and cfg.data.val_size == 0 and cfg.optimizer.lr == 0.005


def test_models_set_the_padding_they_need(compose_config):
    assert compose_config("model=lenet").data.pad == 2
    assert compose_config("model=mlp").data.pad == 0
    assert compose_config("model=lenet", "data.pad=0").data.pad == 0  # the command line still wins


def test_data_root_follows_the_environment(monkeypatch):
    monkeypatch.setenv("LENET_LAB_DATA", "/somewhere/mnist")
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        assert compose("config").data.root == "/somewhere/mnist"


def test_unique_dir_never_hands_out_the_same_folder_twice(tmp_path):
    first = unique_dir(str(tmp_path / "05-00-00"))
    second = unique_dir(str(tmp_path / "05-00-00"))
    assert first != second and Path(first).is_dir() and Path(second).is_dir()
    assert Path(second).name == "05-00-00_2"


def test_lecun1998_experiment_is_the_papers_training(compose_config):
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["+experiment=lecun1998"])
    assert cfg.model._target_.endswith("LeNet5_1998") and cfg.model.head == "rbf"
    assert cfg.optimizer._target_.endswith("SDLM") and cfg.optimizer.mu == 0.02 and cfg.optimizer.curvature_samples == 500
    assert cfg.lr_scheduler["values"][0] == [1, 0.0005] and cfg.epochs == 20
    assert cfg.data.batch_size == 1 and cfg.data.val_size == 0 and cfg.data.test_every_epoch and cfg.data.train_eval_every_epoch  # both of the paper's curves
    assert compose_config("+experiment=lecun1998", "model.init=fan_in").model.init == "fan_in"  # the literal reading, one override away


@pytest.mark.parametrize("experiment", options("experiment"))
def test_every_experiment_composes_and_builds(compose_config, experiment):
    from lenet_lab.training.train import build

    cfg = compose_config(f"+experiment={experiment}")
    _, module = build(cfg)  # schema, model, optimizer, scheduler and the input size all check out
    assert sum(p.numel() for p in module.parameters()) > 0
