"""Train one configuration, or a sweep of them with -m.

    python run.py                                        # LeNet-5, Adam annealed by a cosine, 10 epochs
    python run.py model=mlp optimizer=sgd optimizer.lr=0.01 epochs=3
    python run.py -m model=lenet,resnet18 optimizer=adam,sgd
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException, OverrideParseException
from hydra.types import RunMode
from omegaconf import DictConfig

from lenet_lab import startup, sweep_callbacks
from lenet_lab.config import slurm_status
from lenet_lab.config.tree import print_config_tree
from lenet_lab.errors import UserError, one_line
from lenet_lab.job_folder import read_metrics, write_metrics
from lenet_lab.training.train import train

log = logging.getLogger("lenet_lab")


# An absolute path: Hydra would read a relative one as a Python package when run.py is imported (tests).
@hydra.main(version_base="1.3", config_path=str(Path(__file__).resolve().parent / "conf"), config_name="config")
def main(cfg: DictConfig) -> float | None:
    # Launchers that run jobs in other processes (joblib, submitit) unpickle this function there
    # instead of running this file; naming `startup` here makes them import it, and so register the
    # resolvers every job's config needs, before Hydra resolves the job's config.
    startup.prepare()
    hydra_cfg = HydraConfig.get()
    job_dir = hydra_cfg.runtime.output_dir
    single_run = hydra_cfg.mode == RunMode.RUN
    label = "" if single_run else f"{hydra_cfg.job.num}:{hydra_cfg.job.override_dirname}"
    interactive = single_run and terminal()
    try:
        if interactive:  # what is about to run, every default and override applied
            print_config_tree(cfg)
        metrics = train(cfg, job_dir, interactive=interactive, label=label)
    except UserError as error:
        write_metrics(job_dir, {"status": "failed", "error": str(error)})
        print(f"error: {label + ': ' if label else ''}{error}", file=sys.stderr, flush=True)
        if single_run:
            sys.exit(2)
        return None
    except Exception as error:
        # train() records failures in training with their partial numbers; anything earlier is recorded here.
        if (read_metrics(job_dir) or {}).get("status") != "failed":
            write_metrics(job_dir, {"status": "failed", "error": f"{type(error).__name__}: {error}"})
        # A sweep carries on with its other jobs (the traceback is in this job's run.log) and
        # reports the failure when it ends.
        if single_run:
            raise
        log.exception("job %s failed", label)
        return None
    # What a Hydra sweeper (e.g. Optuna) maximizes; None when nothing was held out (val_size=0).
    return metrics.get("val/acc")


def terminal() -> bool:
    """Whether someone watches: a progress bar and the config tree, instead of one line an epoch."""
    return sys.stdout.isatty()


def cli() -> None:
    # Let Hydra raise its config errors instead of printing them with advice about stack traces:
    # a mistyped key or an unknown option is one line and exit code 2, like every other bad input.
    # Forced, not defaulted: with HYDRA_FULL_ERROR=0 in the environment Hydra would print its own
    # message and exit 1. The user's value is put back for whatever runs after.
    users_value = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    sweep_callbacks.incomplete_sweeps.clear()
    slurm_status.install()  # sweeps on SLURM without accounting: one line about it, states from scontrol
    try:
        main()
    except (ConfigCompositionException, OverrideParseException) as error:  # the command line or a config file
        print(f"error: {one_line(error)}", file=sys.stderr)
        sys.exit(2)
    finally:
        if users_value is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = users_value
    if sweep_callbacks.incomplete_sweeps:  # failed or interrupted jobs, listed at the sweep's end
        sys.exit(1)


if __name__ == "__main__":
    cli()
