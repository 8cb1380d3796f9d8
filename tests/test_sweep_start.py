"""Before a sweep's first job: every job's config is checked, at a cost per configuration, not per job."""

import subprocess
import sys
import textwrap

import pytest

import run
from hydra_plugins.lenet_lab.sweep_start import distinct_builds
from lenet_lab.config import overrides
from tests.conftest import PROJECT


def test_jobs_that_differ_only_in_seed_are_built_once():
    jobs = overrides.expand(["model=lenet,mlp", "seed=range(1,1001)"])
    chosen = distinct_builds(jobs)
    assert [number for number, _ in chosen] == [0, 1000]
    assert chosen[1][1] == ["model=mlp", "seed=1"]


def test_every_seed_is_still_checked(capsys):
    with pytest.raises(SystemExit) as exit:
        distinct_builds(overrides.expand(["model=lenet", "seed=1,2,-3"]))
    assert exit.value.code == 2
    assert "job 2 (model=lenet seed=-3): seed=-3 must be a whole number" in capsys.readouterr().err


def test_a_seed_sweep_builds_one_model_before_its_first_job(mnist_root, tmp_path):
    """run.py's own start, with train.build counted, stopped once the checks are done."""
    script = textwrap.dedent(f"""
        import sys
        import lenet_lab.training.train as training
        from hydra.core.plugins import Plugins
        built = []
        original_build = training.build
        training.build = lambda cfg: built.append(cfg.model._target_) or original_build(cfg)
        class Launcher:  # stands in for the basic launcher: the checks are done when the first batch launches
            def launch(self, job_overrides, initial_job_idx):
                print("BUILT", len(built), sorted(set(built)), flush=True)
                sys.exit(0)
        Plugins.instantiate_launcher = lambda self, **kwargs: Launcher()
        sys.argv = ["run.py", "-m", "model=lenet,mlp", "seed=range(1,41)", "data.root={mnist_root}", "hydra.sweep.dir={tmp_path / 'sweep'}"]
        sys.path.insert(0, {str(PROJECT)!r})
        import run
        run.cli()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BUILT")), None)
    assert line is not None, result.stderr[-3000:]
    assert line == "BUILT 2 ['lenet_lab.models.lenet.LeNet5', 'lenet_lab.models.mlp.MLP']"


def test_the_sweeper_composes_one_config_per_configuration_and_launches_every_job(mnist_root, tmp_path):
    """Hydra's basic sweeper composes all 80 configs before launching; the project's one per configuration, once."""
    script = textwrap.dedent(f"""
        import sys
        from hydra._internal.config_loader_impl import ConfigLoaderImpl
        from hydra.core.plugins import Plugins
        composed = []
        original = ConfigLoaderImpl.load_sweep_config
        def load_sweep_config(self, master_config, sweep_overrides):
            composed.append(list(sweep_overrides))
            return original(self, master_config, sweep_overrides)
        ConfigLoaderImpl.load_sweep_config = load_sweep_config
        class Launcher:  # stands in for the basic launcher (Hydra reloads plugin modules: patching theirs is lost)
            def launch(self, job_overrides, initial_job_idx):
                print("COMPOSED", len(composed), "LAUNCHED", len(job_overrides), flush=True)
                sys.exit(0)
        original_sweeper = Plugins.instantiate_sweeper
        def instantiate_sweeper(self, **kwargs):
            sweeper = original_sweeper(self, **kwargs)
            print("SWEEPER", type(sweeper).__module__ + "." + type(sweeper).__name__, flush=True)
            return sweeper
        Plugins.instantiate_sweeper = instantiate_sweeper
        Plugins.instantiate_launcher = lambda self, **kwargs: Launcher()
        sys.argv = ["run.py", "-m", "model=lenet,mlp", "seed=range(1,41)", "data.root={mnist_root}", "hydra.sweep.dir={tmp_path / 'sweep'}"]
        sys.path.insert(0, {str(PROJECT)!r})
        import run
        run.cli()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("SWEEPER", "COMPOSED")))
    assert lines, result.stderr[-3000:]
    assert lines["SWEEPER"] == "hydra_plugins.lenet_lab.checked_sweeper.CheckedSweeper"
    # By the checks before the first job (hydra_plugins/lenet_lab/sweep_start.py): one per model, not
    # one per job, and not again by Hydra's own check of each batch.
    assert lines["COMPOSED"] == "2 LAUNCHED 80"


def test_a_selection_of_no_row_is_one_line_before_anything_runs(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["run.py", "+sweep=lenet_optimizers", "hydra.sweeper.select=[nothing*]", "hydra.sweep.dir=sweep"])
    with pytest.raises(SystemExit) as exit:
        run.cli()
    rows = "sgd_lr1, momentum, nesterov, adam_30, adam_60, adam_100"
    assert exit.value.code == 2
    assert capsys.readouterr().err.splitlines() == [f"error: hydra.sweeper.select=['nothing*'] matches no row; the rows are {rows}"]
    assert not (tmp_path / "sweep").exists()
