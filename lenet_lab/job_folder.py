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
import zipfile
from pathlib import Path

import yaml

from lenet_lab.errors import DamagedFile, UserError

METRICS_FILE = "metrics.json"
CHECKPOINT = Path("checkpoints") / "last.ckpt"
EVALUATION_DIR = "evaluation"
# In evaluation/ (evaluation/job_evaluation.py writes them): each test image's label, predicted class
# and confidence; the confusion matrix (row: true class); per-class precision, recall, F1; confidence
# bins; and figures, each evaluation_figure(job, name).
PREDICTIONS_FILE = "predictions.npz"
CONFUSION_CSV = "confusion_matrix.csv"
REPORT_CSV = "classification_report.csv"
CALIBRATION_CSV = "calibration.csv"
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
PRUNED = "pruned"  # a search stopped the trial after an epoch (hydra.sweeper.pruner): no result, not a failure
NOT_A_RESULT = ("failed", "interrupted", "running", "unknown")  # a sweep with such a job exits non-zero

# In a sweep's folder while it is being stopped (Ctrl-C, SIGTERM): the signal's number, for the
# jobs that run in other processes (training/stop_signals.py).
STOP_FILE = ".stopping"


def write_atomically(path: str | Path, write, binary: bool = False) -> Path:
    """`write(file)` into a temporary file beside `path`, then renamed over it: a reader never sees
    half a file, even when the process is killed while writing (the rename is atomic on one file
    system, which a temporary file in the same folder is on)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_metrics(job_dir: str | Path, metrics: dict) -> Path:
    """Write metrics.json atomically (write_atomically)."""

    def dump(f) -> None:
        # NaN/inf are not JSON: a diverged loss is written as null.
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}
        json.dump(clean, f, indent=2, sort_keys=True)
        f.write("\n")

    return write_atomically(Path(job_dir) / METRICS_FILE, dump)


def read_metrics(job_dir: str | Path) -> dict | None:
    """The job's metrics, or None if it has not finished (no file yet); DamagedFile if it can't be read."""
    path = Path(job_dir) / METRICS_FILE
    if not path.is_file():
        return None
    resumes = "from its last checkpoint" if checkpoint(job_dir).is_file() else "from its start"
    what_to_do = f"delete it and run the same command again (the job runs again {resumes})"
    try:
        metrics = json.loads(path.read_text())
    except (ValueError, OSError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise damaged(path, f"not JSON: {error}", what_to_do) from error
    if not isinstance(metrics, dict):
        raise damaged(path, f"a JSON {type(metrics).__name__}, not an object", what_to_do)
    return metrics


def record_failed(job_dir: str | Path, error: BaseException) -> None:
    """A job that failed before training started (a bad config, missing data) says why: the message as
    a user reads it for a UserError, with the exception's type for anything else. Like
    record_interrupted, it keeps what earlier runs recorded and leaves a result or a damaged file alone."""
    record_ending(job_dir, "failed", str(error) if isinstance(error, UserError) else f"{type(error).__name__}: {error}")


def record_interrupted(job_dir: str | Path, reason: str) -> None:
    """A job stopped by a signal says so, keeping what earlier runs recorded (epochs, train_time_s).
    A job that ended with a result before the signal keeps it; a damaged metrics.json is left alone."""
    record_ending(job_dir, "interrupted", reason)


def record_ending(job_dir: str | Path, status: str, error: str) -> dict:
    """A job that ended without a result ("failed", "interrupted") says why, keeping what earlier runs
    recorded (epochs, train_time_s). A result already recorded (completed, diverged, pruned) stands, and
    a damaged metrics.json is left alone. Returns the record as it now is ({} for a damaged one)."""
    try:
        recorded = read_metrics(job_dir) or {}
    except DamagedFile:  # named to the user by whoever read it; what becomes of it is the user's choice
        return {}
    if recorded.get("status") in (None, *NOT_A_RESULT):
        recorded = {**recorded, "status": status, "error": error}
        write_metrics(job_dir, recorded)
    return recorded


def damaged(path: Path, why, what_to_do: str) -> DamagedFile:
    return DamagedFile(f"{path} is damaged ({str(why).strip() or type(why).__name__}); nothing was changed: {what_to_do}, or put back a good copy")


def check_checkpoint(path: str | Path) -> None:
    """DamagedFile unless `path` loads as a checkpoint. Memory-mapped: the tensors' bytes are not
    read, so checking a large model's checkpoint costs about what its small pickle does."""
    import torch  # here, not at the top: the tables read job folders without importing torch

    if not zipfile.is_zipfile(path):  # what a copy cut short or an overwritten file looks like; torch would say "use mmap differently"
        raise damaged(Path(path), "not the zip archive torch.save writes: cut short or overwritten", "remove this job's folder to train the job again from its start")
    try:
        torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # torch raises RuntimeError, UnpicklingError, EOFError, ... for a bad file
        raise damaged(Path(path), error, "remove this job's folder to train the job again from its start") from error


def check_resumable(job_dir: str | Path) -> None:
    """DamagedFile if a rerun could not read what the job left: its metrics.json, and the checkpoint an unfinished job resumes from."""
    metrics = read_metrics(job_dir)
    if (metrics or {}).get("status") not in FINISHED and checkpoint(job_dir).is_file():
        check_checkpoint(checkpoint(job_dir))


def never_started(job_dir: str | Path) -> bool:
    """Whether the folder holds only what Hydra writes before a job's code runs (.hydra/, run.log):
    a job of a stopped sweep that Hydra set up but that never ran."""
    path = Path(job_dir)
    return path.is_dir() and not (path / METRICS_FILE).exists() and all(item.name in (HYDRA_DIR, "run.log") for item in path.iterdir())


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


def evaluation_figure(job_dir: str | Path, name: str) -> Path:
    """evaluation/<name>.png: "confusion_matrix", "reliability", "misclassified", "predictions" (job_evaluation.py)."""
    return evaluation_dir(job_dir) / f"{name}.png"


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
    return choices_in(hydra_record(job_dir))


def runtime_cwd(job_dir: str | Path) -> str | None:
    return cwd_in(hydra_record(job_dir))


def choices_in(hydra: dict) -> dict:
    return (hydra.get("runtime") or {}).get("choices") or {}


def cwd_in(hydra: dict) -> str | None:
    """The folder the job's command ran in (relative paths in its config are relative to it)."""
    return (hydra.get("runtime") or {}).get("cwd")


def setting(job_dir: str | Path, key: str):
    """What the job ran with for `key` although it didn't override it: a group's chosen option
    (`model` -> "lenet") or a config value (`optimizer.lr`). None when the job's records don't say."""
    return setting_in(recorded_config(job_dir), hydra_record(job_dir), key)


def setting_in(config: dict | None, hydra: dict, key: str):
    """`setting` over records already read: the job's config and its `hydra:` node."""
    if "." not in key and key in (choices := choices_in(hydra)):
        return choices[key]
    value = config
    try:
        for part in key.split("."):
            value = value[part]
    except (KeyError, TypeError):
        return None
    return None if isinstance(value, (dict, list)) else value
