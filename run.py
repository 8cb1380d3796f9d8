"""Train one configuration, or a sweep of them with -m.

    python run.py                                        # LeNet-5, Adam annealed by a cosine, 10 epochs
    python run.py model=mlp optimizer=sgd optimizer.lr=0.01 epochs=3
    python run.py -m model=lenet,resnet18 optimizer=adam,sgd
"""

from __future__ import annotations

import signal
import sys

if __name__ == "__main__":
    # Until cli() takes the signals over, a Ctrl-C or SIGTERM while Python imports torch and Hydra
    # ends the command quietly with the signal's exit code: nothing has been written yet.
    for _signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(_signum, lambda signum, frame: sys.exit(128 + signum))

# After the handlers above: these imports take seconds.
import logging
import os
import shutil
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException, OverrideParseException
from hydra.types import RunMode
from omegaconf import DictConfig

from lenet_lab import job_folder, startup, sweep_callbacks
from lenet_lab.config import launcher
from lenet_lab.config.tree import print_config_tree
from lenet_lab.errors import UserError, report
from lenet_lab.job_folder import record_failed
from lenet_lab.launch import submitit_patch
from lenet_lab.launch.submission import refused_submission
from lenet_lab.training import pruning, stop_signals
from lenet_lab.training.train import train

log = logging.getLogger("lenet_lab")
jobs_entered = 0  # jobs this process began: an OSError before the first is Hydra failing to write the output folder


# An absolute path: Hydra would read a relative one as a Python package when run.py is imported (tests).
@hydra.main(version_base="1.3", config_path=str(Path(__file__).resolve().parent / "conf"), config_name="config")
def main(cfg: DictConfig) -> float | None:
    # Launchers that run jobs in other processes (joblib, submitit) unpickle this function there
    # instead of running this file; naming `startup` here makes them import it, and so register the
    # resolvers every job's config needs, before Hydra resolves the job's config.
    startup.prepare()
    global jobs_entered
    jobs_entered += 1
    hydra_cfg = HydraConfig.get()
    single_run = hydra_cfg.mode == RunMode.RUN
    worker = not single_run and launcher.name(hydra_cfg) == "joblib"  # joblib's worker processes take a stop signal too
    stop_signals.job_started(None if single_run else Path(hydra_cfg.sweep.dir), worker)
    if stop_signals.requested() is not None:  # the sweep was stopped before this job's turn: it does not start
        if job_folder.never_started(hydra_cfg.runtime.output_dir):  # the folder Hydra just made for it: not a job of the tables
            shutil.rmtree(hydra_cfg.runtime.output_dir, ignore_errors=True)
        stop_signals.job_ended()
        if worker:
            return None
        raise KeyboardInterrupt
    try:
        value = job(cfg, hydra_cfg, single_run)
    except BaseException:  # KeyboardInterrupt, Lightning's SystemExit, or what a stop broke on its way (a closed logger)
        if stop_signals.requested() is None:
            raise
        value = None
    finally:
        stop_signals.job_ended()
    if (signum := stop_signals.requested()) is not None:
        # Also when the job reported a failure: the signal caused it (e.g. a logger closed mid-write).
        job_folder.record_interrupted(hydra_cfg.runtime.output_dir, f"stopped by {stop_signals.name(signum)}")
        if not worker:
            raise KeyboardInterrupt  # out of Hydra's launcher: no further job starts (cli writes the tables)
        # raising in a joblib worker would make joblib kill the other workers before they record their jobs
    return value


def job(cfg: DictConfig, hydra_cfg: DictConfig, single_run: bool) -> float | None:
    job_dir = hydra_cfg.runtime.output_dir
    label = "" if single_run else f"{hydra_cfg.job.num}:{hydra_cfg.job.override_dirname}"
    interactive = single_run and terminal()
    training = False  # from train()'s first line on, train() records how the job ended
    try:
        if interactive:  # what is about to run, every default and override applied
            print_config_tree(cfg)
        # A trial of a search with a pruner reports each epoch's val/acc to its study (hydra.sweeper.pruner).
        extra_callbacks = pruning.trial_callbacks(hydra_cfg)
        training = True
        metrics = train(cfg, job_dir, interactive=interactive, label=label, extra_callbacks=extra_callbacks)
    except UserError as error:
        if not training:
            record_failed(job_dir, error)
        code = report(error, where=f"{label}: " if label else "")
        if single_run:
            sys.exit(code)
        return None
    except Exception as error:
        if not training:
            record_failed(job_dir, error)
        # A sweep carries on with its other jobs (the traceback is in this job's run.log) and
        # reports the failure when it ends.
        if single_run:
            raise
        if stop_signals.requested() is None:  # else the stop broke it: it is recorded as interrupted
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
    sweep_callbacks.unfinished_sweeps.clear()
    sweep_callbacks.summaries.clear()
    # submitit's SLURM jobs: states from scontrol where accounting is off; a job SLURM ends without a result recorded failed.
    submitit_patch.install()
    global jobs_entered
    jobs_entered = 0
    stop_signals.install()  # one Ctrl-C or SIGTERM: the running job recorded, no new one, the tables, exit 130 or 143
    try:
        try:
            main()
        except (ConfigCompositionException, OverrideParseException, UserError) as error:
            # The command line or a config file; a rerun's damaged job file, named before any job starts.
            sys.exit(report(error))
        except OSError as error:
            if jobs_entered or not error.filename:
                raise
            # Hydra could not make or write the output folder (it does so before any code of ours runs).
            sys.exit(report(UserError(f"cannot write the output folder: {error.strerror}: {error.filename} (choose another with hydra.run.dir=... or, for a sweep, hydra.sweep.dir=...)")))
        except BaseException as error:
            if (refused := refused_submission(error)) is not None:
                sys.exit(report(refused))
            if stop_signals.requested() is None:
                raise
            # The stop ended Hydra's multirun (or the run) where it was: what it left is recorded.
        if (signum := stop_signals.requested()) is not None:
            stopped(signum)
    finally:
        stop_signals.finished()
        if users_value is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = users_value
    if sweep_callbacks.incomplete_sweeps:  # failed or interrupted jobs, listed at the sweep's end
        sys.exit(1)


def stopped(signum: int) -> None:
    """After a Ctrl-C or SIGTERM: the tables of the jobs that exist, how to go on, the signal's exit code."""
    stop_signals.tables_started()
    sweep_callbacks.end_stopped_sweep()
    print(f"stopped by {stop_signals.name(signum)}: run the same command again to resume", file=sys.stderr, flush=True)
    sys.exit(128 + signum)


if __name__ == "__main__":
    cli()
