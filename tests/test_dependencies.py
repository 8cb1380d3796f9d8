"""Every package the code imports is declared in pyproject.toml, not left to arrive through another one."""

import ast
import re
import sys
from importlib.metadata import packages_distributions

import tomllib

from tests.conftest import PROJECT


def imported_top_level_names() -> set[str]:
    names = set()
    for path in [PROJECT / "run.py", *(PROJECT / "lenet_lab").rglob("*.py"), *(PROJECT / "hydra_plugins").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"lenet_lab", "hydra_plugins", "run", "__future__"}


def declared() -> set[str]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_every_imported_package_is_declared():
    distributions = packages_distributions()
    missing = {}
    for name in imported_top_level_names():
        owners = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not owners & declared():
            missing[name] = sorted(owners)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
