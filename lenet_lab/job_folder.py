"""The on-disk contract of one job: what a job folder holds, and the one place that reads and writes it.

    <job>/
      .hydra/config.yaml        the job's composed config (Hydra)
      .hydra/overrides.yaml     its command-line overrides (Hydra)
      .hydra/hydra.yaml         Hydra's own config: runtime choices, cwd, the sweeper's rows
      metrics.json              final numbers and status; written once, atomically, at the end
      checkpoints/last.ckpt     the only checkpoint, overwritten every epoch (resume, evaluate, predict)
      evaluation/               test-set evaluation files (lenet_lab.evaluation.job_evaluation)
      events.out.tfevents.*     the curves, when TensorBoard logs (logger=tensorboard, the default)
      csv/version_N/metrics.csv the curves, when Lightning's CSVLogger logs (logger=csv); one version per attempt:
                                a resumed job's earlier epochs stay in the earlier versions
      checkpoints/best.ckpt     the best epoch by val/acc (callbacks=checkpoint_best)
      fit-profiler.txt,         Lightning's simple profiler's reports (debug=profiler)
      test-profiler.txt

Everything else in the package asks this module for these names and files.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import yaml

METRICS_FILE = "metrics.json"
CHECKPOINT = Path("checkpoints") / "last.ckpt"
EVALUATION_DIR = "evaluation"
PREDICTIONS_FILE = "predictions.npz"  # in evaluation/: each test image's label, predicted class, confidence
HYDRA_DIR = ".hydra"
BEST_CHECKPOINT = CHECKPOINT.parent / "best.ckpt"
EVENT_FILES = "events.out.tfevents.*"
CSV_LOG_DIR = "csv"  # the CSVLogger's name: its versions (csv/version_N/) sit under it
CSV_METRICS = "metrics.csv"  # Lightning's name for the CSVLogger's file
PROFILER_NAME = "profiler"  # Lightning's SimpleProfiler writes <stage>-profiler.txt
# What every job folder holds; anything else (e.g. evaluation/ figures) is listed in a sweep's report.
STANDARD_FILES = (HYDRA_DIR, CHECKPOINT.parent.name, CSV_LOG_DIR, METRICS_FILE, "hparams.yaml", "run.log")

# Statuses in metrics.json.
FINISHED = ("completed", "diverged")  # a rerun skips these; it resumes any other status
FAST_DEV_RUN = "fast_dev_run"  # a check that the code runs (debug=fdr): no result, not a failure
NOT_A_RESULT = ("failed", "interrupted", "running", "unknown")  # a sweep with such a job exits non-zero


def write_metrics(job_dir: str | Path, metrics: dict) -> Path:
    """Write metrics.json atomically (a temporary file renamed over the old one): a reader never
    sees half a file, even when the job is killed while writing it."""
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


def checkpoint(job_dir: str | Path) -> Path:
    return Path(job_dir) / CHECKPOINT


def tested_checkpoint(job_dir: str | Path) -> Path:
    """The weights the job's test set saw: checkpoints/best.ckpt for a job run with test_on=best, else
    last.ckpt. What evaluate and predict load, so that they score as metrics.json says."""
    best = Path(job_dir) / BEST_CHECKPOINT
    try:
        tested_best = (read_metrics(job_dir) or {}).get("test_on") == "best"
    except ValueError:  # an unreadable metrics.json
        tested_best = False
    return best if tested_best and best.is_file() else checkpoint(job_dir)


def job_dir_of_checkpoint(path: Path) -> Path:
    """<job>/checkpoints/last.ckpt -> <job>; a checkpoint somewhere else is its own "job": outputs go next to it."""
    return path.parent.parent if path.parent.name == CHECKPOINT.parent.name else path.parent


def evaluation_dir(job_dir: str | Path) -> Path:
    return Path(job_dir) / EVALUATION_DIR


def predictions_file(job_dir: str | Path) -> Path:
    return evaluation_dir(job_dir) / PREDICTIONS_FILE


def event_files(job_dir: str | Path) -> list[Path]:
    return sorted(Path(job_dir).glob(EVENT_FILES))


def csv_metric_files(job_dir: str | Path) -> list[Path]:
    """The CSVLogger's files, oldest attempt first (version_2 before version_10)."""
    files = Path(job_dir).glob(f"{CSV_LOG_DIR}/version_*/{CSV_METRICS}")
    return sorted(files, key=lambda f: int(f.parent.name.removeprefix("version_")) if f.parent.name.removeprefix("version_").isdigit() else -1)


def is_job_dir(path: Path) -> bool:
    return (path / HYDRA_DIR / "config.yaml").is_file() or (path / METRICS_FILE).is_file()


def find_job_dirs(paths: list[str | Path]) -> list[Path]:
    """Job folders given directly or found anywhere below the given folders, sorted, no repeats."""
    found = set()
    for path in map(Path, paths):
        if is_job_dir(path):
            found.add(path.resolve())
        found.update(p.parent.parent.resolve() for p in path.rglob(f"{HYDRA_DIR}/config.yaml") if is_job_dir(p.parent.parent))
        found.update(p.parent.resolve() for p in path.rglob(METRICS_FILE))
    return sorted(found, key=lambda p: (str(p.parent), job_number(p), p.name))


def job_number(path: Path) -> int:
    """Hydra's job number from a folder named `<num>_<overrides>`, for a natural order (2 before 10); -1 if none."""
    head = path.name.split("_", 1)[0]
    return int(head) if head.isdigit() else -1


def extra_files(path: Path) -> list[str]:
    """Files a job left beyond the standard ones (event files included), relative to its folder, sorted."""
    found = []
    for item in sorted(path.iterdir()):
        if item.name in STANDARD_FILES or item.name.startswith(("events.out.tfevents.", ".")):
            continue
        found += [str(f.relative_to(path)) for f in sorted(item.rglob("*")) if f.is_file()] if item.is_dir() else [item.name]
    return found


# Hydra's records of the job (.hydra/*.yaml), read as plain YAML: nothing is resolved or instantiated.


def overrides_file(job_dir: str | Path) -> Path:
    return Path(job_dir) / HYDRA_DIR / "overrides.yaml"


def config_file(job_dir: str | Path) -> Path:
    return Path(job_dir) / HYDRA_DIR / "config.yaml"


# libyaml's loader when PyYAML was built with it: ~5x faster, which a 1,000-job aggregation notices.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str):
    return yaml.load(text, Loader=SafeLoader)


def recorded_overrides(job_dir: str | Path) -> list[str]:
    """The job's command-line overrides; raises yaml.YAMLError for a corrupt file, [] without one."""
    path = overrides_file(job_dir)
    return [str(o) for o in read_yaml(path.read_text()) or []] if path.is_file() else []


def recorded_config(job_dir: str | Path) -> dict | None:
    """The job's config as Hydra saved it (interpolations unresolved), or None."""
    try:
        return read_yaml(config_file(job_dir).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None


def hydra_record(job_dir: str | Path) -> dict:
    """The job's `hydra:` node (runtime choices and cwd, the sweeper's settings), or {}."""
    try:
        return (read_yaml((Path(job_dir) / HYDRA_DIR / "hydra.yaml").read_text()) or {}).get("hydra") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return {}


def runtime_choices(job_dir: str | Path) -> dict:
    """Config-group choices the job ran with: {"model": "lenet", "optimizer": "adam", ...}."""
    return (hydra_record(job_dir).get("runtime") or {}).get("choices") or {}


def runtime_cwd(job_dir: str | Path) -> str | None:
    """The folder the job's command ran in (relative paths in its config are relative to it)."""
    return (hydra_record(job_dir).get("runtime") or {}).get("cwd")


def setting(job_dir: str | Path, key: str):
    """What the job ran with for `key` although it didn't override it: a group's chosen option
    (`model` -> "lenet") or a config value (`optimizer.lr`). None when the job's records don't say."""
    if "." not in key and key in (choices := runtime_choices(job_dir)):
        return choices[key]
    value = recorded_config(job_dir)
    try:
        for part in key.split("."):
            value = value[part]
    except (KeyError, TypeError):
        return None
    return None if isinstance(value, (dict, list)) else value
