"""Per-job overhead of a sweep: job start -> first optimizer step, last step -> job end.

    python benchmarks/overhead.py --jobs 5

Each job is what a Hydra multirun job runs (train(cfg) into its own folder, in one process, as
the basic launcher does), only tiny: 5 training batches, 1 epoch. "Start" covers seeding, config
checks, building the model, checking (MD5) and loading MNIST and starting the Trainer; "end"
covers validation (5,000 images) and the test set (10,000), whose batches are reported apart as
they are work rather than overhead, then the checkpoint, the job's evaluation files (confusion
matrix, report, digit grids), metrics.json, the HParams summary and the TensorBoard flush. The one-off
`import torch, lightning` of a new process is measured separately, in a fresh interpreter.

    python benchmarks/overhead.py --startup 1 1000

Sweep start-up: `python run.py -m seed=range(1,N+1)` from its launch to the end of its first job's
first epoch (one training step, then validation and test), for each N. Every job's config is
checked before the first one trains; jobs that differ only in their seed are built once.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, PROJECT, StepTimer, run_config

from lenet_lab.training.train import train


def import_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, lightning.pytorch, torchvision"], check=True)
    return time.perf_counter() - started


def first_epoch_seconds(jobs: int, model: str) -> float:
    """Seconds from launching a seed sweep of `jobs` jobs to its first job's first epoch line."""
    with tempfile.TemporaryDirectory() as sweep:
        command = [sys.executable, str(PROJECT / "run.py"), "-m", f"model={model}", f"seed=range(1,{jobs + 1})", "epochs=1", "++trainer.max_steps=1", f"hydra.sweep.dir={sweep}"]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env={**os.environ, "LENET_LAB_DATA": DATA})
        try:
            for line in process.stdout:
                if "epoch 1/1" in line:
                    return time.perf_counter() - started
            raise RuntimeError(f"the sweep of {jobs} jobs ended before its first epoch (exit {process.wait()})")
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def startup_table(sizes: list[int], model: str) -> None:
    print(f"| jobs in the seed sweep ({model}) | launch -> first epoch (s) |")
    print("|---:|---:|")
    for jobs in sizes:
        print(f"| {jobs:,} | {first_epoch_seconds(jobs, model):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--model", default="lenet")
    parser.add_argument("--startup", type=int, nargs="+", metavar="N", help="instead: sweep start-up for seed sweeps of N jobs")
    args = parser.parse_args()
    if args.startup:
        startup_table(args.startup, args.model)
        return

    rows = []
    with tempfile.TemporaryDirectory() as sweep:
        for seed in range(1, args.jobs + 1):
            cfg = run_config(f"model={args.model}", f"seed={seed}", "epochs=1", "++trainer.limit_train_batches=5")
            timer = StepTimer(warmup=0)
            started = time.perf_counter()
            train(cfg, Path(sweep) / f"{seed}", extra_callbacks=[timer])
            ended = time.perf_counter()
            after = ended - timer.end
            rows.append((timer.first_step_end - started, after, timer.evaluating, after - timer.evaluating))

    print("| job | start -> first step (s) | last step -> end (s) | of which validation + test (s) | end overhead (s) |")
    print("|---:|---:|---:|---:|---:|")
    for number, row in enumerate(rows):
        print(f"| {number} | " + " | ".join(f"{value:.2f}" for value in row) + " |")
    later = rows[1:] or rows  # job 0 also pays for the first use of every code path
    medians = [statistics.median(row[i] for row in later) for i in range(4)]
    print("| median of jobs 1+ | " + " | ".join(f"{value:.2f}" for value in medians) + " |")
    print(f"\none-off `import torch, lightning.pytorch, torchvision` in a new process: {import_seconds():.1f} s")


if __name__ == "__main__":
    main()
