"""Which Hydra launcher runs this job, and how many of its sweep's jobs share this machine at once.

config/threads.py and config/placement.py decide from this how many CPU threads and which devices a job gets. Read
in the job's own process (Hydra sets its config there under every launcher); without Hydra (tests
calling train() directly) a job counts as a single run.
"""

from __future__ import annotations

import os

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

# Launcher classes by the names their config options have (hydra/launcher=...).
NAMES = {
    "BasicLauncher": "basic",
    "JoblibLauncher": "joblib",
    "LocalLauncher": "submitit_local",
    "SlurmLauncher": "submitit_slurm",
}


def hydra_config() -> DictConfig | None:
    return HydraConfig.get() if HydraConfig.initialized() else None


def name(hydra_cfg: DictConfig | None) -> str:
    """"basic", "joblib", "submitit_local", "submitit_slurm", or the class name of another launcher."""
    target = str(OmegaConf.select(hydra_cfg, "launcher._target_", default="") or "") if hydra_cfg is not None else ""
    cls = target.rsplit(".", 1)[-1]
    return NAMES.get(cls, cls or "basic")


def is_multirun(hydra_cfg: DictConfig | None) -> bool:
    return hydra_cfg is not None and hydra_cfg.get("mode") == RunMode.MULTIRUN


def job_number(hydra_cfg: DictConfig | None) -> int:
    return int(OmegaConf.select(hydra_cfg, "job.num", default=0) or 0) if hydra_cfg is not None else 0


def cores() -> int:
    """CPUs this process may run on: the whole machine, or what a scheduler (SLURM) allotted it."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def side_by_side(hydra_cfg: DictConfig | None, available: int) -> int | None:
    """How many jobs run at once on this machine: 1 for a single run, the basic launcher (one after
    another) and SLURM (each job on its own allocation); joblib's n_jobs (negative: as joblib counts,
    -1 all cores, -2 all but one); None when unknown (submitit_local starts all jobs of a batch at once)."""
    launcher = name(hydra_cfg)
    if not is_multirun(hydra_cfg) or launcher in ("basic", "submitit_slurm"):
        return 1
    if launcher == "joblib":
        n_jobs = int(OmegaConf.select(hydra_cfg, "launcher.n_jobs", default=-1) or 1)
        return max(1, n_jobs if n_jobs > 0 else available + 1 + n_jobs)
    return None


def processes_started_by_cluster() -> bool:
    """SLURM started one process per task (tasks_per_node > 1): Lightning joins them into one job itself."""
    return int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1
