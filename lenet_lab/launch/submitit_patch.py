"""The one place that changes submitit: its SLURM jobs get slurm_watcher.py's watcher (states from
scontrol where accounting is off) and slurm_endings.py's results (a job SLURM ended without a result
is recorded failed, the sweep goes on).

Both lean on submitit's private API. `missing_private_api()` lists what of it is gone; with any of it
gone, install() changes nothing and says so in one line (the sweep runs on submitit as it is), and
tests/test_launchers.py fails naming what changed, before a SLURM sweep would.
"""

from __future__ import annotations

import logging

log = logging.getLogger("lenet_lab")

# What the watcher and the endings use of submitit beyond its documented API.
WATCHER_ATTRIBUTES = ("_make_command", "_num_calls", "_info_dict", "_last_status_check", "_registered", "_finished", "is_done", "read_info")
JOB_ATTRIBUTES = ("watcher", "results", "submission", "get_info", "stderr", "state")


def missing_private_api() -> list[str]:
    """What the patch needs of submitit and the installed submitit lacks ([] without submitit)."""
    try:
        from submitit.core import utils
        from submitit.slurm import slurm
    except ImportError:
        return []
    missing = [f"submitit.core.utils.{name}" for name in ("UncompletedJobError",) if not hasattr(utils, name)]
    missing += [f"SlurmJob.{name}" for name in JOB_ATTRIBUTES if not hasattr(slurm.SlurmJob, name)]
    watcher = getattr(slurm, "SlurmInfoWatcher", None)
    if watcher is None:
        return [*missing, "submitit.slurm.slurm.SlurmInfoWatcher"]
    made = watcher(delay_s=60)
    missing += [f"SlurmInfoWatcher.{name}" for name in WATCHER_ATTRIBUTES if not hasattr(made, name)]
    if not hasattr(getattr(slurm.SlurmJob, "watcher", None), "_delay_s"):
        missing.append("SlurmJob.watcher._delay_s")
    return missing


def install() -> None:
    """Before a sweep is launched: submitit's SLURM jobs get the watcher and the recorded endings
    (no-op without submitit; one warning, and nothing changed, where its private API moved)."""
    try:
        from submitit.slurm import slurm
    except ImportError:
        return
    missing = missing_private_api()
    if missing:
        import submitit

        log.warning(
            "submitit %s lacks %s: its SLURM jobs' states come from sacct alone, and a job SLURM ends without a result "
            "ends the sweep (lenet_lab/launch/submitit_patch.py needs updating)",
            submitit.__version__, ", ".join(missing),
        )  # fmt: skip
        return
    if not hasattr(slurm.SlurmJob.watcher, "accounting_off"):
        from lenet_lab.launch.slurm_watcher import watcher_class

        slurm.SlurmJob.watcher = watcher_class()(delay_s=slurm.SlurmJob.watcher._delay_s)
    if not hasattr(slurm.SlurmJob.results, "records_endings"):
        from lenet_lab.launch.slurm_endings import results_or_recorded

        slurm.SlurmJob.results = results_or_recorded(slurm.SlurmJob.results)
