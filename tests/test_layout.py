"""The package's stages depend on each other one way only (docs/architecture.md): a test reads every import."""

import ast

from tests.conftest import PROJECT

# Lower first: a module may import from its own stage and from the stages before it.
STAGES = [
    {"errors", "metrics", "job_folder", "sweep_folder"},
    {"data", "models", "optim"},
    {"config"},  # the schema names the data's choices (data.normalize)
    {"launch"},  # what the project changes in submitit (its SLURM jobs' states and endings)
    {"studies"},  # Optuna studies: the sweepers ask and tell, a trial's job reports to its study
    {"evaluation"},
    {"training"},
    {"reports"},
    {"sweep_callbacks", "aggregate", "compare", "evaluate", "predict", "startup"},
]


def stage_of(module: str) -> int:
    top = module.split(".")[1] if module.startswith("lenet_lab.") else None
    return next(i for i, names in enumerate(STAGES) if top in names)


def imports_of(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lenet_lab."):
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.module == "lenet_lab":
            found.update(f"lenet_lab.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("lenet_lab."))
    return found


def test_every_module_belongs_to_a_stage():
    tops = {p.stem if p.is_file() else p.name for p in (PROJECT / "lenet_lab").iterdir() if p.name != "__init__.py" and not p.name.startswith("__")}
    assert tops == set().union(*STAGES)


def test_no_stage_imports_a_later_one():
    wrong = []
    for path in sorted((PROJECT / "lenet_lab").rglob("*.py")):
        parts = path.relative_to(PROJECT).with_suffix("").parts
        if len(parts) < 2 or parts[1] == "__init__":
            continue
        own = stage_of(".".join(parts))
        wrong += [f"{'/'.join(parts)}.py imports {module}" for module in imports_of(path) if stage_of(module) > own]
    assert not wrong, "\n".join(wrong)


def test_reports_never_need_the_code_that_trained():
    """Tables are rebuilt from job folders alone: nothing under reports/ imports training/."""
    wrong = [f"{path.name} imports {m}" for path in (PROJECT / "lenet_lab" / "reports").rglob("*.py") for m in imports_of(path) if m.startswith("lenet_lab.training")]
    assert not wrong, "\n".join(wrong)
