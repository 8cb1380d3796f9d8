"""What one job left on disk, read into memory: its parameters, status, final metrics and curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from lenet_lab import job_folder
from lenet_lab.config import overrides
from lenet_lab.reports.events import read_curve_records


@dataclass
class Job:
    path: Path
    name: str
    params: dict  # override key -> value, e.g. {"model": "lenet", "optimizer.lr": 0.01}
    metrics: dict  # metrics.json; {"status": "running"} before it exists
    records: list[tuple]  # (tag, step, epoch, value, wall_time) of every logged scalar, by tag and step
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.metrics.get("status", "running")

    def points(self, tag: str) -> list[tuple[int | None, float]]:
        """(epoch, value) of one curve, in step order; [] when the job never logged it."""
        return self._points_by_tag.get(tag, [])

    @cached_property
    def _points_by_tag(self) -> dict[str, list]:
        by_tag: dict[str, list] = {}
        for tag, _, epoch, value, _ in self.records:
            by_tag.setdefault(tag, []).append((epoch, value))
        return by_tag


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
    records, problems = read_curve_records(path)
    name = str(path.relative_to(root)) if root and path.is_relative_to(root) and path != root else path.name
    return Job(path, name, params, metrics, records, warnings + problems)
