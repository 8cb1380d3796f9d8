"""What one job left on disk: its overrides, config, status, final metrics and curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from lenet_lab.events import read_scalars
from lenet_lab.results import METRICS_FILE, read_metrics

# Overrides that say where or how a job ran, not what it was: never columns of a comparison.
# Keep in step with hydra.job.config.override_dirname.exclude_keys in conf/config.yaml.
NOT_PARAMETERS = ("data.root", "data.download", "data.on_device", "threads", "hydra.", "trainer.accelerator", "trainer.devices")


@dataclass
class Job:
    path: Path
    name: str
    params: dict  # override key -> value, e.g. {"model": "lenet", "optimizer.lr": 0.01}
    metrics: dict  # metrics.json; {"status": "running"} before it exists
    curves: pd.DataFrame  # tag, step, epoch, value, wall_time
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.metrics.get("status", "running")


def is_job_dir(path: Path) -> bool:
    return (path / ".hydra" / "config.yaml").is_file() or (path / METRICS_FILE).is_file()


def find_job_dirs(paths: list[str | Path]) -> list[Path]:
    """Job folders given directly or found anywhere below the given folders, sorted, no repeats."""
    found = set()
    for path in map(Path, paths):
        if is_job_dir(path):
            found.add(path.resolve())
        found.update(p.parent.parent.resolve() for p in path.rglob(".hydra/config.yaml") if is_job_dir(p.parent.parent))
        found.update(p.parent.resolve() for p in path.rglob(METRICS_FILE))
    return sorted(found, key=lambda p: (str(p.parent), job_number(p), p.name))


def job_number(path: Path) -> int:
    """Hydra's job number from a folder named `<num>_<overrides>`, for a natural order (2 before 10)."""
    head = path.name.split("_", 1)[0]
    return int(head) if head.isdigit() else -1


def parse_overrides(lines: list[str]) -> dict:
    params = {}
    for line in lines:
        key, _, value = line.partition("=")
        key = key.lstrip("+~")
        if key.startswith(NOT_PARAMETERS):
            continue
        try:
            params[key] = yaml.safe_load(value)  # "0.01" -> 0.01, "lenet" -> "lenet"
        except yaml.YAMLError:
            params[key] = value
    return params


def read_curves(path: Path) -> tuple[pd.DataFrame, list[str]]:
    rows, problems = [], []
    for event_file in sorted(path.glob("events.out.tfevents.*")):
        file_rows, problem = read_scalars(event_file)
        rows += file_rows
        if problem:
            problems.append(f"truncated or corrupt event file {problem}")
    curves = pd.DataFrame(rows, columns=["tag", "step", "value", "wall_time"])
    # A resumed job logs some steps again: the latest write wins.
    curves = curves.sort_values("wall_time", kind="stable").drop_duplicates(["tag", "step"], keep="last")
    # Lightning logs the 0-based epoch next to every metric; papers count epochs from 1.
    epochs = curves[curves.tag == "epoch"].set_index("step")["value"]
    curves["epoch"] = curves.step.map(epochs).add(1).astype("Int64")
    # The final test runs after the last epoch, when Lightning's counter has already moved on;
    # a test measured every epoch (data.test_every_epoch) shares its step with the validation.
    test = curves.tag.str.startswith("test/")
    after_fit = test & ~curves.step.isin(curves[~test & (curves.tag != "epoch")].step)
    curves.loc[after_fit, "epoch"] -= 1
    curves = curves[curves.tag != "epoch"].sort_values(["tag", "step"]).reset_index(drop=True)
    return curves[["tag", "step", "epoch", "value", "wall_time"]], problems


# What every job folder holds; anything else (e.g. evaluation/ figures) is listed in the sweep's report.
STANDARD_FILES = (".hydra", "checkpoints", METRICS_FILE, "hparams.yaml", "run.log")


def extra_files(path: Path) -> list[str]:
    """Files a job left beyond the standard ones (event files included), relative to its folder, sorted."""
    found = []
    for item in sorted(path.iterdir()):
        if item.name in STANDARD_FILES or item.name.startswith(("events.out.tfevents.", ".")):
            continue
        found += [str(f.relative_to(path)) for f in sorted(item.rglob("*")) if f.is_file()] if item.is_dir() else [item.name]
    return found


def setting(path: Path, key: str):
    """What the job ran with for `key` although it didn't override it: a group's chosen option
    (`model` -> "lenet", from Hydra's record of its choices) or a config value (`optimizer.lr`).
    None when the job's .hydra files don't say."""
    try:
        if "." not in key:
            hydra = yaml.safe_load((path / ".hydra" / "hydra.yaml").read_text()) or {}
            choices = hydra.get("hydra", {}).get("runtime", {}).get("choices", {})
            if key in choices:
                return choices[key]
        value = yaml.safe_load((path / ".hydra" / "config.yaml").read_text())
        for part in key.split("."):
            value = value[part]
        return None if isinstance(value, (dict, list)) else value
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None


def load_job(path: Path, root: Path | None = None) -> Job:
    warnings = []
    overrides_file = path / ".hydra" / "overrides.yaml"
    try:
        params = parse_overrides(yaml.safe_load(overrides_file.read_text()) or []) if overrides_file.is_file() else {}
    except yaml.YAMLError as error:
        params, warnings = {}, [f"unreadable {overrides_file.name}: {error}"]
    try:
        metrics = read_metrics(path) or {"status": "running"}
    except ValueError as error:
        metrics = {"status": "unknown"}
        warnings.append(f"unreadable metrics.json: {error}")
    curves, problems = read_curves(path)
    name = str(path.relative_to(root)) if root and path.is_relative_to(root) and path != root else path.name
    return Job(path, name, params, metrics, curves, warnings + problems)
