"""Which devices a job trains on, and how Lightning starts its processes, when Hydra runs it in a sweep.

Two resolvers, used by conf/config.yaml as the defaults of trainer.devices and trainer.strategy
(anything given on the command line replaces them):

- `job_devices`: one GPU per job, by job number (job.num % GPUs), when a launcher runs GPU jobs side
  by side on one machine (joblib with n_jobs > 1, submitit_local); otherwise Lightning's "auto".
- `job_strategy`: "ddp_spawn" for a job of a multirun that trains on several devices. Lightning's
  default for several devices, "ddp", starts the other processes by running the command line again,
  and the command line of a multirun is the whole sweep. Under SLURM with one task per device the
  processes already exist and Lightning's own choice ("auto") is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from omegaconf import ListConfig, OmegaConf

from lenet_lab.config import launcher

GPU_ACCELERATORS = ("gpu", "cuda")


def uses_gpu(accelerator: str) -> bool:
    return accelerator in GPU_ACCELERATORS or (accelerator == "auto" and torch.cuda.is_available())


def job_devices(accelerator: str) -> Any:
    hydra_cfg = launcher.hydra_config()
    if not launcher.is_multirun(hydra_cfg) or not uses_gpu(accelerator):
        return "auto"
    jobs = launcher.side_by_side(hydra_cfg, launcher.cores())
    gpus = torch.cuda.device_count()  # those visible to this job (submitit_local: gpus_per_node of them)
    if (jobs is None or jobs > 1) and gpus:
        return [launcher.job_number(hydra_cfg) % gpus]
    return "auto"


def count_devices(devices: Any, accelerator: str, gpus: int) -> int:
    """How many devices Lightning will train on for trainer.devices (a number, "auto", -1, "0,1", [0, 1])."""
    if isinstance(devices, (ListConfig, Sequence)) and not isinstance(devices, str):
        return len(devices)
    text = str(devices).strip()
    if text in ("auto", "-1"):
        return gpus if uses_gpu(accelerator) else 1  # Lightning's CPU "auto" is one process
    if "," in text:
        return len([part for part in text.split(",") if part.strip()])
    return int(text) if text.isdigit() else 1


def choose_strategy(devices: int, multirun: bool, processes_started_by_cluster: bool) -> str:
    if multirun and devices > 1 and not processes_started_by_cluster:
        return "ddp_spawn"
    return "auto"


def job_strategy(accelerator: str, devices: Any) -> str:
    hydra_cfg = launcher.hydra_config()
    n = count_devices(devices, accelerator, torch.cuda.device_count())
    return choose_strategy(n, launcher.is_multirun(hydra_cfg), launcher.processes_started_by_cluster())


def register() -> None:
    if not OmegaConf.has_resolver("job_devices"):
        OmegaConf.register_new_resolver("job_devices", job_devices)
        OmegaConf.register_new_resolver("job_strategy", job_strategy)
