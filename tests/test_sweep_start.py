"""Before a sweep's first job: every job's config is checked, at a cost per configuration, not per job."""

import sys

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl

import run
from hydra_plugins.lenet_lab.sweep_start import distinct_builds
from lenet_lab.config import overrides
from lenet_lab.errors import UserError
from tests.sweep_start import start_sweep


def test_jobs_that_differ_only_in_seed_are_built_once():
    jobs = overrides.expand(["model=lenet,mlp", "seed=range(1,1001)"])
    chosen = distinct_builds(jobs)
    assert [number for number, _ in chosen] == [0, 1000]
    assert chosen[1][1] == ["model=mlp", "seed=1"]


def test_every_seed_is_still_checked():
    with pytest.raises(UserError) as error:
        distinct_builds(overrides.expand(["model=lenet", "seed=1,2,-3"]))
    assert str(error.value).startswith("job 2 (model=lenet seed=-3): seed=-3 must be a whole number")


def test_a_seed_sweep_composes_and_builds_one_config_per_model_before_its_first_job(monkeypatch, mnist_root, tmp_path):
    """Hydra's basic sweeper composes all 80 configs of this sweep before it launches; the project's
    sweeper one per configuration, once, and builds one model each (run.py's start, in this process)."""
    import lenet_lab.training.train as training

    built, composed = [], []
    original_build, original_compose = training.build, ConfigLoaderImpl.load_sweep_config

    def load_sweep_config(self, master_config, sweep_overrides):
        composed.append(list(sweep_overrides))
        return original_compose(self, master_config, sweep_overrides)

    monkeypatch.setattr(training, "build", lambda cfg: built.append(cfg.model._target_) or original_build(cfg))
    monkeypatch.setattr(ConfigLoaderImpl, "load_sweep_config", load_sweep_config)
    monkeypatch.chdir(tmp_path)
    jobs = start_sweep(monkeypatch, "model=lenet,mlp", "seed=range(1,41)", f"data.root={mnist_root}", "hydra.sweep.dir=sweep")
    assert len(jobs) == 80
    assert built == ["lenet_lab.models.lenet.LeNet5", "lenet_lab.models.mlp.MLP"]
    # By the checks before the first job (hydra_plugins/lenet_lab/sweep_start.py), not again by Hydra's own check of each batch.
    assert [job[:2] for job in composed] == [["model=lenet", "seed=1"], ["model=mlp", "seed=1"]]


def test_a_selection_of_no_row_is_one_line_before_anything_runs(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["run.py", "+sweep=lenet_optimizers", "hydra.sweeper.select=[nothing*]", "hydra.sweep.dir=sweep"])
    with pytest.raises(SystemExit) as exit:
        run.cli()
    rows = "sgd_lr1, momentum, nesterov, adam_30, adam_60, adam_100"
    assert exit.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"error: hydra.sweeper.select=['nothing*'] matches no row; the rows are {rows}"]
    assert not (tmp_path / "sweep").exists()
