"""What one job left on disk, read into memory: its parameters, status, final metrics and curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from lenet_lab import job_folder
from lenet_lab.config import overrides
from lenet_lab.reports.events import read_curves


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


def load_job(path: Path, root: Path | None = None) -> Job:
    warnings = []
    try:
        params = overrides.parameters(job_folder.recorded_overrides(path))
    except yaml.YAMLError as error:
        params, warnings = {}, [f"unreadable {job_folder.overrides_file(path).name}: {error}"]
    try:
        metrics = job_folder.read_metrics(path) or {"status": "running"}
    except ValueError as error:
        metrics = {"status": "unknown"}
        warnings.append(f"unreadable {job_folder.METRICS_FILE}: {error}")
    curves, problems = read_curves(path)
    name = str(path.relative_to(root)) if root and path.is_relative_to(root) and path != root else path.name
    return Job(path, name, params, metrics, curves, warnings + problems)
