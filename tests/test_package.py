"""The package's import-time behaviour: no side effects, old module paths kept, Lightning's private API there."""

import subprocess
import sys

import lightning
from setuptools.config.pyprojecttoml import read_configuration

from lenet_lab.training import grouped_steps
from tests.conftest import PROJECT


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)


def test_importing_the_package_registers_nothing():
    code = (
        "from omegaconf import OmegaConf\n"
        "import lenet_lab.training.train, lenet_lab.reports.sweep_report\n"
        "assert not OmegaConf.has_resolver('unique_dir') and not OmegaConf.has_resolver('job_devices'), 'a library module registered'\n"
        "import lenet_lab.predict\n"
        "assert OmegaConf.has_resolver('unique_dir') and OmegaConf.has_resolver('job_devices'), 'lenet_lab.predict is an entry point: it imports startup'\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr[-2000:]


def test_importing_the_package_changes_nothing():
    """No import hooks and nothing imported beyond the package itself (docs/architecture.md)."""
    code = (
        "import sys; finders = list(sys.meta_path); before = set(sys.modules)\n"
        "import lenet_lab, lenet_lab.data\n"
        "assert sys.meta_path == finders, sys.meta_path\n"
        "assert set(sys.modules) - before == {'lenet_lab', 'lenet_lab.data'}, set(sys.modules) - before\n"
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


def test_the_distribution_holds_the_one_plugin_package():
    """Hydra finds plugins only under hydra_plugins/ (a namespace package, shared with other plugins):
    the packages setuptools ships, as pyproject.toml finds them, carry hydra_plugins/lenet_lab/, the only one."""
    packages = read_configuration(PROJECT / "pyproject.toml")["tool"]["setuptools"]["packages"]
    assert sorted(p for p in packages if p.startswith("hydra_plugins")) == ["hydra_plugins", "hydra_plugins.lenet_lab"]
