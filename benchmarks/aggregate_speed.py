"""Aggregation speed: 1,000 synthetic jobs x 20 epochs of scalars, then aggregate() over them.

    python benchmarks/aggregate_speed.py [--jobs 1000] [--epochs 20]

The jobs are written as run.py leaves them (TensorBoard event file, .hydra/overrides.yaml,
metrics.json); writing them is not timed. Aggregation reads every event record (no sampling).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import yaml
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from lenet_lab.aggregate import aggregate
from lenet_lab.job_folder import write_metrics

TAGS = ("train/loss", "train/acc", "val/loss", "val/acc", "lr")


def write_job(path: Path, number: int, epochs: int, rng: random.Random) -> None:
    model, lr, seed = ["lenet", "mlp", "resnet18", "lenet_keras"][number % 4], [0.1, 0.01, 1e-3][number // 4 % 3], number // 12
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"model={model}", f"optimizer.lr={lr}", f"seed={seed}"]))
    writer = EventFileWriter(str(path))
    for epoch in range(epochs):
        step = (epoch + 1) * 860 - 1
        values = [Summary.Value(tag="epoch", simple_value=epoch)] + [Summary.Value(tag=t, simple_value=rng.random()) for t in TAGS]
        writer.add_event(Event(wall_time=time.time(), step=step, summary=Summary(value=values)))
    writer.close()
    write_metrics(path, {"status": "completed", "test/acc": rng.random(), "train/acc": 0.9, "val/acc": 0.9, "test/loss": 0.1, "epochs": epochs, "num_params": 1, "train_time_s": 1.0})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as sweep:
        for number in range(args.jobs):
            write_job(Path(sweep) / f"{number}_job", number, args.epochs, rng)
        started = time.perf_counter()
        result = aggregate([sweep], plots=False)
        tables = time.perf_counter() - started
        started = time.perf_counter()
        aggregate([sweep], plots=True)
        with_plots = time.perf_counter() - started
    rows = len(result["curves"])
    print("| jobs | epochs | curve rows | aggregate, tables only (s) | with figures (s) |\n|---:|---:|---:|---:|---:|")
    print(f"| {args.jobs} | {args.epochs} | {rows:,} | {tables:.1f} | {with_plots:.1f} |")


if __name__ == "__main__":
    main()
