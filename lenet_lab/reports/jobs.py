"""What one job left on disk, read into memory once: its overrides and parameters, status, final
metrics, curves, and (when first asked for) its config and Hydra's record of the run. The tables,
published rows, figures, the HTML page and `compare` all work from these records."""

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
    overrides: list[str] = field(default_factory=list)  # .hydra/overrides.yaml as written

    @cached_property
    def config(self) -> dict | None:
        """.hydra/config.yaml (unresolved), read the first time a table needs a value from it."""
        return job_folder.recorded_config(self.path)

    @cached_property
    def hydra(self) -> dict:
        """The `hydra:` node of .hydra/hydra.yaml: runtime choices and cwd, the sweeper's settings."""
        return job_folder.hydra_record(self.path)

    def setting(self, key: str):
        """What the job ran with for `key` (job_folder.setting_in over the records read once)."""
        return job_folder.setting_in(self.config, self.hydra, key)

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


def load_job(path: Path, root: Path | None = None, curves: bool = True) -> Job:
    """The job folder `path` read into a Job, named relative to `root`; `curves=False` skips its
    logged scalars (`compare` needs the final numbers only)."""
    warnings, recorded = [], []
    try:
        recorded = job_folder.recorded_overrides(path)
        params = overrides.parameters(recorded)
    except yaml.YAMLError as error:
        params, warnings = {}, [f"unreadable {job_folder.overrides_file(path).name}: {error}"]
    try:
        metrics = job_folder.read_metrics(path) or {"status": "running"}
    except ValueError as error:
        metrics = {"status": "unknown"}
        warnings.append(f"unreadable {job_folder.METRICS_FILE}: {error}")
    records, problems = read_curve_records(path) if curves else ([], [])
    name = str(path.relative_to(root)) if root and path.is_relative_to(root) and path != root else path.name
    return Job(path, name, params, metrics, records, warnings + problems, recorded)
