"""Before a sweep's first job: every job's config is checked, at a cost per configuration, not per job."""

import subprocess
import sys
import textwrap

import pytest

from lenet_lab.config import overrides
from lenet_lab.sweep_callbacks import distinct_builds
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
        import lenet_lab.sweep_callbacks as callbacks
        built = []
        original_build, original_start = training.build, callbacks.AggregateSweep.on_multirun_start
        training.build = lambda cfg: built.append(cfg.model._target_) or original_build(cfg)
        def start(self, config, **kwargs):
            original_start(self, config, **kwargs)
            print("BUILT", len(built), sorted(set(built)), flush=True)
            sys.exit(0)
        callbacks.AggregateSweep.on_multirun_start = start
        sys.argv = ["run.py", "-m", "model=lenet,mlp", "seed=range(1,41)", "data.root={mnist_root}", "hydra.sweep.dir={tmp_path / 'sweep'}"]
        sys.path.insert(0, {str(PROJECT)!r})
        import run
        run.cli()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    line = next((line for line in result.stdout.splitlines() if line.startswith("BUILT")), None)
    assert line is not None, result.stderr[-3000:]
    assert line == "BUILT 2 ['lenet_lab.models.lenet.LeNet5', 'lenet_lab.models.mlp.MLP']"
