"""Where a study lives: by default a journal file in the sweep folder, so that it outlasts its process.

Optuna's JournalStorage appends every event (a trial asked, an epoch reported, a result told) to one
file under a file lock: jobs in other processes (joblib, submitit) report to the same study, the
same command into the same folder continues it, and `optuna-dashboard <sweep>/optuna.journal`
opens it. Any other storage is a URL Optuna takes (`sqlite:///search.db`, `postgresql://...`).
"""

from __future__ import annotations

from pathlib import Path

JOURNAL_FILE = "optuna.journal"


def storage_location(setting: str | None, sweep_dir: str | Path) -> str:
    """hydra.sweeper.storage -> what every process opens: null is the sweep folder's journal file
    (an absolute path, so that jobs find it from any working directory)."""
    if not setting:
        return str((Path(sweep_dir) / JOURNAL_FILE).resolve())
    return str(setting)


def is_url(location: str) -> bool:
    return "://" in location


def open_storage(location: str):
    """A storage object for a URL (SQLAlchemy's, e.g. sqlite:///x.db) or a journal file's path."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    if is_url(location):
        return optuna.storages.get_storage(location)
    Path(location).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(location))
