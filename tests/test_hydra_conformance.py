"""Installing the project changes no other Hydra application, and its sweeper passes Hydra's own sweeper tests.

Hydra imports every module under hydra_plugins/ in every Hydra application of the environment;
the project's sweepers have their own names (`lenet_lab`, `lenet_lab_rows`), so an application
that chooses none still gets Hydra's basic sweeper. The suites below are Hydra's own
(hydra.test_utils.launcher_common_tests), as Hydra runs them on its basic sweeper, with
`hydra/sweeper=lenet_lab` added: on another application's config the project's sweeper must
behave as the basic one (job order, overrides, batches, folders, multirun.yaml, errors).
The rows sweeper is not run through them: its jobs are a sweep file's rows, not the cartesian
product those suites expect (tests/test_sweeps.py covers it).
"""

import subprocess
import sys
import textwrap

import pytest
from hydra import compose, initialize_config_dir
from hydra.test_utils.launcher_common_tests import BatchedSweeperTestSuite, LauncherTestSuite
from hydra.version import VersionBase
from packaging.version import Version

import lenet_lab.startup  # noqa: F401  (registers the config schema, as run.py does)
from tests.conftest import PROJECT

SWEEPER = "hydra_plugins.lenet_lab.checked_sweeper.CheckedSweeper"


@pytest.fixture(autouse=True)
def hydras_own_defaults(hydra_restore_singletons):
    """Hydra's suites expect the defaults of an app that names no version_base (a job runs in its own
    folder); run.py and the compose() of other tests in this process set 1.3. Restored after each test."""
    VersionBase.instance().setbase(Version("1.1"))


@pytest.mark.parametrize("launcher_name, overrides", [("basic", ["hydra/sweeper=lenet_lab"])])
class TestHydrasLauncherSuiteOnTheProjectsSweeper(LauncherTestSuite):
    pass


@pytest.mark.parametrize("launcher_name, overrides", [("basic", ["hydra/sweeper=lenet_lab", "hydra.sweeper.max_batch_size=2"])])
class TestHydrasBatchedSweeperSuiteOnTheProjectsSweeper(BatchedSweeperTestSuite):
    pass


APP = """
import hydra
from hydra.core.hydra_config import HydraConfig

@hydra.main(version_base="1.3", config_path=None, config_name=None)
def app(cfg):
    print("JOB", HydraConfig.get().job.num, HydraConfig.get().sweeper._target_, flush=True)

app()
"""
BASIC = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def python(code: str, cwd) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_plain_hydra_app_in_the_same_environment_keeps_hydras_basic_sweeper(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP))
    result = subprocess.run([sys.executable, "app.py", "-m", "+x=1,2"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line for line in result.stdout.splitlines() if line.startswith("JOB")] == [f"JOB 0 {BASIC}", f"JOB 1 {BASIC}"]
    # Nor does it get the project's config groups (sweeps/*.yaml are options of `sweep` in run.py only)...
    help = subprocess.run([sys.executable, "app.py", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "== Configuration groups ==" in help.stdout and "sweep:" not in help.stdout and "lecun1998" not in help.stdout
    # ...although the project's sweepers are installed where it runs (so the test means something).
    found = python("from hydra.core.plugins import Plugins; from hydra.plugins.sweeper import Sweeper; print([p.__name__ for p in Plugins.instance().discover(Sweeper)])", tmp_path)
    assert "CheckedSweeper" in found and "RowSweeper" in found


def test_hydras_plugin_scan_imports_no_torch(tmp_path):
    """Every Hydra application of the environment imports every module of hydra_plugins/lenet_lab/
    when it starts: importing torch and Lightning there would cost each of them seconds."""
    loaded = python("import sys; from hydra.core.plugins import Plugins; Plugins.instance(); print(sorted(m for m in ('torch', 'lightning') if m in sys.modules))", tmp_path)
    assert loaded.strip() == "[]"


def test_run_py_chooses_the_projects_sweeper_and_sweep_files_and_searches_theirs():
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        chosen = {o: compose("config", overrides=[o] if o else [], return_hydra_config=True).hydra.sweeper._target_ for o in ("", "+sweep=lenet_optimizers", "hparams_search=optuna")}
    assert chosen[""] == SWEEPER
    assert chosen["+sweep=lenet_optimizers"] == "hydra_plugins.lenet_lab.row_sweeper.RowSweeper"
    assert chosen["hparams_search=optuna"] not in (SWEEPER, BASIC)  # the search's own, chosen in conf/hparams_search/
