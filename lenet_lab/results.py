"""A job's `metrics.json`: its final numbers and status, and the marker that the job is done.

Written once, atomically (a temporary file renamed over the old one), so a reader never sees
half a file, even when the job is killed while writing it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

METRICS_FILE = "metrics.json"


def write_metrics(job_dir: str | Path, metrics: dict) -> Path:
    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    path = job_dir / METRICS_FILE
    fd, tmp = tempfile.mkstemp(dir=job_dir, prefix=".metrics-", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        # NaN/inf are not JSON: a diverged loss is written as null.
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}
        json.dump(clean, f, indent=2, sort_keys=True)
        f.write("\n")
    os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
    os.replace(tmp, path)
    return path


def read_metrics(job_dir: str | Path) -> dict | None:
    """The job's metrics, or None if it has not finished (no file yet)."""
    path = Path(job_dir) / METRICS_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text())
