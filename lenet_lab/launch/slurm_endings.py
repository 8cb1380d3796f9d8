"""SLURM jobs that end without a result (scancel, out of memory, a lost node): recorded `failed`, the sweep goes on.

submitit's launcher waits for each job's result in turn. A job that SLURM ended without requeueing
it left none, and submitit raised UncompletedJobError: the sweep ended with a traceback, the jobs
after it unwaited and no tables. `results_or_recorded` (submitit_patch.install puts it in place) records
such a job in its folder as `failed`, with SLURM's state and reason, and hands the launcher the empty
result run.py returns for any failed job: the sweep waits for its other jobs, writes its tables,
lists the job and exits 1.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf, open_dict

from lenet_lab.job_folder import record_ending

log = logging.getLogger("lenet_lab")


def results_or_recorded(results):
    """SlurmJob.results, but a job that SLURM ended without a result is recorded instead of raised."""
    from submitit.core.utils import UncompletedJobError

    def wrapped(job):
        try:
            return results(job)
        except UncompletedJobError:
            return [record_ended_job(job)]

    wrapped.records_endings = True
    return wrapped


def slurm_reason(job) -> str:
    """SLURM's state ("CANCELLED", "OUT_OF_MEMORY", "FAILED"), its reason when it gives one, and what
    slurmstepd wrote into the job's log: a cluster without cgroups kills a job over its memory
    request as "FAILED (NonZeroExitCode)", and only that line says why."""
    info = job.get_info()
    state, reason = info.get("State") or job.state, info.get("Reason", "")
    said = next((line.split("error:", 1)[1].strip() for line in (job.stderr() or "").splitlines() if line.startswith("slurmstepd") and "error:" in line), "")
    return f"{state}{f' ({reason})' if reason and reason != 'None' else ''}{f': {said}' if said else ''}"


def job_folder_of(job) -> tuple[Path, list[str]]:
    """The folder Hydra gives the job (as the job would compute it) and its overrides, from submitit's record of the submission."""
    submission = job.submission()
    launcher, (overrides, job_dir_key, job_num) = submission.function, submission.args[:3]
    config = launcher.hydra_context.config_loader.load_sweep_config(launcher.config, list(overrides))
    with open_dict(config.hydra.job):
        config.hydra.job.num = job_num
    return Path(str(OmegaConf.select(config, job_dir_key))) / str(OmegaConf.select(config, "hydra.sweep.subdir")), list(overrides)


def record_ended_job(job) -> JobReturn:
    reason = f"SLURM ended the job: {slurm_reason(job)}"
    job_dir, overrides = job_folder_of(job)
    # Kept: the epochs of one that saw scancel's SIGTERM ("interrupted"), a result written before SLURM
    # ended the job (completed while its loggers published), a damaged file (named when it is next read).
    recorded = record_ending(job_dir, "failed", reason)
    log.warning("job %s (SLURM job %s): %s; %s in %s", job_dir.name.split("_")[0], job.job_id, reason, recorded.get("status", "left as it was"), job_dir)
    ended = JobReturn(overrides=overrides, working_dir=str(job_dir), status=JobStatus.COMPLETED)
    # What run.py returns: val/acc for a completed job, None (no score, for a sweeper) for any other.
    ended.return_value = recorded.get("val/acc") if recorded.get("status") == "completed" else None
    return ended
