"""The one override parser: Hydra's grammar everywhere a job's overrides are read back."""

from pathlib import Path

import pytest
import yaml

from lenet_lab.aggregate import aggregate
from lenet_lab.config import overrides
from lenet_lab.job_folder import write_metrics
from tests.conftest import PROJECT


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("optimizer.lr=1e-3", 0.001),  # yaml would keep "1e-3" as a string
        ("optimizer.lr=0.001", 0.001),
        ("model=lenet", "lenet"),
        ("+optimizer.rho=0.95", 0.95),
        ("seed=3", 3),
        ("lr_scheduler.values=[[1,0.1]]", [[1, 0.1]]),
        ("lr_scheduler=null", None),
        ("data.augment=true", True),
    ],
)
def test_values_are_read_as_hydra_reads_them(line, expected):
    assert overrides.value(line) == expected
    assert type(overrides.value(line)) is type(expected)


def test_keys_and_what_is_not_a_parameter():
    assert overrides.key("+optimizer.rho=0.95") == "optimizer.rho"
    assert overrides.key("~lr_scheduler") == "lr_scheduler"
    params = overrides.parameters(["model=mlp", "data.root=/data", "threads=1", "hydra.sweep.dir=x", "trainer.devices=2", "trainer.max_epochs=3"])
    assert params == {"model": "mlp", "trainer.max_epochs": 3}
    assert overrides.same("optimizer.lr=1e-3", "optimizer.lr=0.001") and not overrides.same("optimizer.lr=1e-3", "optimizer.lr=1e-2")


def test_a_sweep_expands_as_hydra_orders_it():
    assert overrides.expand(["model=a,b", "seed=1,2"]) == [["model=a", "seed=1"], ["model=a", "seed=2"], ["model=b", "seed=1"], ["model=b", "seed=2"]]


def test_not_parameters_are_the_keys_left_out_of_folder_names():
    """conf/config.yaml's exclude_keys and NOT_PARAMETERS say the same thing; this keeps them in step."""
    config = yaml.safe_load((PROJECT / "conf" / "config.yaml").read_text())
    excluded = config["hydra"]["job"]["config"]["override_dirname"]["exclude_keys"]
    for key in excluded:
        assert not overrides.is_parameter(f"{key}=x"), f"{key} is left out of folder names but would be a table column"
    for prefix in overrides.NOT_PARAMETERS:
        assert any(key == prefix or key.startswith(prefix) for key in excluded), f"{prefix} is no table column but names job folders"


def single_run(path: Path, lr: str, acc: float) -> None:
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"optimizer.lr={lr}"]))
    write_metrics(path, {"status": "completed", "test/acc": acc, "val/acc": acc, "train/acc": acc})


def test_the_same_value_written_two_ways_is_one_group_of_a_table(tmp_path):
    single_run(tmp_path / "runs" / "a", "1e-3", 0.98)
    single_run(tmp_path / "runs" / "b", "0.001", 0.99)
    single_run(tmp_path / "runs" / "c", "0.01", 0.97)
    comparison = aggregate([tmp_path / "runs"], plots=False)["comparison"]
    assert sorted(comparison["optimizer.lr"]) == ["0.001", "0.01"]
    assert comparison.set_index("optimizer.lr").loc["0.001", "n"] == 2
