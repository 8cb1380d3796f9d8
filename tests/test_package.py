"""The package's import-time behaviour: no side effects, old module paths kept, Lightning's private API there."""

import subprocess
import sys

import lightning

from lenet_lab.training import grouped_steps
from tests.conftest import PROJECT


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)


def test_importing_the_package_registers_nothing():
    code = (
        "import warnings; before = list(warnings.filters)\n"
        "from omegaconf import OmegaConf\n"
        "import lenet_lab.training.train, lenet_lab.reports.sweep_report, lenet_lab.predict\n"
        "assert not OmegaConf.has_resolver('unique_dir') and not OmegaConf.has_resolver('job_devices')\n"
        "import lenet_lab.startup\n"
        "assert OmegaConf.has_resolver('unique_dir') and OmegaConf.has_resolver('job_devices')\n"
    )
    result = python(code)
    assert result.returncode != 0 and "AssertionError" in result.stderr and "line 4" in result.stderr, (
        "lenet_lab.predict is an entry point: it imports startup"
    )
    result = python(code.replace(", lenet_lab.predict", ""))
    assert result.returncode == 0, result.stderr


def test_module_paths_from_before_the_layout_still_import():
    code = (
        "from lenet_lab.train import train; import lenet_lab.training.train as new; assert train is new.train\n"
        "from lenet_lab.optimizers.sdlm import SDLM; from lenet_lab.optim.sdlm import SDLM as S2; assert SDLM is S2\n"
        "import lenet_lab.results, lenet_lab.job_folder; assert lenet_lab.results is lenet_lab.job_folder\n"
        "assert lenet_lab.job_folder.__spec__.name == 'lenet_lab.job_folder'\n"
        "from lenet_lab.data import MNISTDataModule, to_inputs\n"
        "from hydra.utils import get_class\n"
        "assert get_class('lenet_lab.sweep_callback.AggregateSweep').__module__ == 'lenet_lab.sweep_callbacks'\n"
        "assert get_class('lenet_lab.schedules.PiecewiseConstantLR').__name__ == 'PiecewiseConstantLR'\n"
        "from lenet_lab.legacy_paths import MOVED\n"
        "import importlib\n"
        "for old in MOVED: importlib.import_module(old)\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr


def test_lightning_still_has_the_private_api_grouped_steps_use():
    missing = grouped_steps.missing_private_api()
    assert not missing, (
        f"lightning {lightning.__version__} lacks {', '.join(missing)}: grouped steps fall back to Lightning's "
        "public calls (slower); update lenet_lab/training/grouped_steps.py and the lightning pin in pyproject.toml"
    )


def test_benchmarks_compose_configs_as_entry_points():
    """benchmarks/ import no run.py: their shared module registers what the config needs itself."""
    result = python("import sys; sys.path.insert(0, 'benchmarks'); import common; print(common.run_config('epochs=1').epochs)")
    assert result.returncode == 0 and result.stdout.strip() == "1", result.stderr[-2000:]
