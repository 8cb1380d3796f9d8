"""torch CPU threads per job: `threads` in the config, with `auto` dividing the cores among the jobs
that run at once, so that N parallel jobs use the machine's cores instead of N times them.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig, OmegaConf

from lenet_lab.config import launcher
from lenet_lab.errors import UserError

RULE = "must be auto, null or a whole number at least 1"

# torch's own choice for this process (`threads: null`). Taken at import: a job must not inherit the
# setting of the job that ran before it in the same process (basic launcher, joblib's reused workers).
TORCH_DEFAULT = torch.get_num_threads()


def threads_per_job(cfg: DictConfig) -> int:
    """`threads`: a number, null (torch's default) or auto (see auto_threads)."""
    threads = cfg.get("threads")
    if threads is None:
        return TORCH_DEFAULT
    if threads == "auto":
        return auto_threads(launcher.hydra_config())
    # Checked here too, not only by the schema: threads are set before the config is validated.
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UserError(f"threads={threads!r} {RULE}")
    return threads


def auto_threads(hydra_cfg: DictConfig | None, available: int | None = None, default: int = TORCH_DEFAULT) -> int:
    """The job's share of the cores.

    - submitit with `hydra.launcher.cpus_per_task`: that many (the CPUs the job asked the scheduler for);
    - joblib with n_jobs N: cores // N (at least 1);
    - a single run, the basic launcher, SLURM without cpus_per_task: torch's default, i.e. what the
      process may use (on SLURM, its allocation);
    - submitit_local without cpus_per_task: torch's default too; it starts every job of the sweep at
      once, a number the job can't see, so say cpus_per_task (cores / jobs) there.
    """
    cpus_per_task = OmegaConf.select(hydra_cfg, "launcher.cpus_per_task", default=None) if hydra_cfg is not None else None
    if cpus_per_task:
        return int(cpus_per_task)
    available = available or launcher.cores()
    jobs = launcher.side_by_side(hydra_cfg, available)
    if jobs is None or jobs == 1:
        return default
    return max(1, available // jobs)
