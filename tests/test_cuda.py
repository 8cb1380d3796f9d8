"""What only a GPU can show, run as a user runs the project: `python run.py ...`, `python -m ... evaluate`
and `... predict`, judged by the job folders they leave (metrics.json, the checkpoint, evaluation/).

Every test is marked `cuda` and skips where torch sees no CUDA device: `pytest -m cuda` on a GPU
machine (benchmarks/device_check.sh runs it there). Tiny synthetic MNIST files (tests/conftest.py),
so each job trains in seconds.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import PROJECT, TINY_TEST, tiny_digits

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"),
]

# The command-line entry points README.md documents (module names, so a moved file needs one edit here).
EVALUATE, PREDICT = "lenet_lab.evaluate", "lenet_lab.predict"
TINY = ("data.val_size=20", "data.batch_size=16")  # 100 training images: 7 optimizer steps an epoch
GPU = ("trainer.accelerator=gpu",)


def command(args: list[str], cwd: Path, mnist_root: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")])),
        "LENET_LAB_DATA": str(mnist_root),
    }
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def run(*overrides: str, cwd: Path, mnist_root: Path) -> subprocess.CompletedProcess:
    return command([str(PROJECT / "run.py"), *overrides], cwd, mnist_root)


def metrics(job: Path) -> dict:
    return json.loads((job / "metrics.json").read_text())


def checkpoint(job: Path) -> dict:
    # No map_location: tensors come back on the device they were saved from.
    return torch.load(job / "checkpoints" / "last.ckpt", weights_only=True)


def devices_of(ckpt: dict) -> set[str]:
    return {str(t.device) for t in ckpt["state_dict"].values()}


def confusion(job: Path) -> list[list[str]]:
    with open(job / "evaluation" / "confusion_matrix.csv", newline="") as f:
        return list(csv.reader(f))


def finished(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def gpu_job(tmp_path_factory, mnist_root) -> Path:
    """LeNet-5, 4 epochs on the GPU, the data kept on the device (data.on_device=true, the default)."""
    job = tmp_path_factory.mktemp("gpu") / "job"
    result = run(*GPU, "data.on_device=true", "epochs=4", *TINY, f"hydra.run.dir={job}", cwd=job.parent, mnist_root=mnist_root)
    assert result.returncode == 0, finished(result)
    return job


def test_data_on_the_gpu_trains_and_tests(gpu_job, mnist_root, tmp_path):
    recorded = metrics(gpu_job)
    assert recorded["status"] == "completed" and recorded["epochs"] == 4, recorded
    assert recorded["test/acc"] >= 0.5, recorded  # it learned (about 0.9 on a CPU)
    assert devices_of(checkpoint(gpu_job)) == {"cuda:0"}  # the weights trained on the GPU
    matrix = confusion(gpu_job)
    assert sum(int(n) for row in matrix[1:] for n in row[1:]) == TINY_TEST  # every test digit, once
    # The same run with the data in host memory, each batch copied over: the same batches in the
    # same order, so the same training up to the GPU's rounding.
    job = tmp_path / "host_data"
    result = run(*GPU, "data.on_device=false", "epochs=4", *TINY, f"hydra.run.dir={job}", cwd=tmp_path, mnist_root=mnist_root)
    assert result.returncode == 0, finished(result)
    host = metrics(job)
    assert host["status"] == "completed"
    assert host["train/loss"] == pytest.approx(recorded["train/loss"], rel=1e-3)
    assert abs(host["test/acc"] - recorded["test/acc"]) <= 1 / TINY_TEST  # one digit may tip over


def test_bf16_mixed_precision_trains_and_differs_from_fp32_only_by_rounding(gpu_job, mnist_root, tmp_path):
    job = tmp_path / "bf16"
    result = run(*GPU, "trainer.precision=bf16-mixed", "epochs=4", *TINY, f"hydra.run.dir={job}", cwd=tmp_path, mnist_root=mnist_root)
    assert result.returncode == 0, finished(result)
    bf16, fp32 = metrics(job), metrics(gpu_job)
    assert bf16["status"] == "completed" and bf16["epochs"] == 4, bf16
    assert checkpoint(job)["config"]["trainer"]["precision"] == "bf16-mixed"
    assert all(np.isfinite(bf16[k]) for k in ("train/loss", "test/loss")), bf16
    # bf16 keeps 8 bits of mantissa: the losses move (autocast ran) but not far (it still trains).
    relative = abs(bf16["train/loss"] - fp32["train/loss"]) / fp32["train/loss"]
    assert 1e-5 < relative < 0.5, (bf16["train/loss"], fp32["train/loss"])
    assert bf16["test/acc"] >= 0.5, bf16


def test_joblib_gives_each_parallel_job_one_gpu_by_job_number(mnist_root, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="needs the parallel extra: pip install -e '.[parallel]'")
    sweep = tmp_path / "sweep"
    result = run(
        "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *GPU, "model=mlp", "seed=1,2", "epochs=1", *TINY,
        f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.plots=false",
        cwd=tmp_path, mnist_root=mnist_root,
    )  # fmt: skip
    assert result.returncode == 0, finished(result)
    assert "Joblib.Parallel(n_jobs=2," in result.stdout
    jobs = sorted((p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: int(p.name.split("_")[0]))
    assert len(jobs) == 2
    gpus = torch.cuda.device_count()
    for num, job in enumerate(jobs):
        assert metrics(job)["status"] == "completed", metrics(job)
        ckpt = checkpoint(job)
        # The config each job trained with, as resolved in its own process (trainer.devices=[job.num % GPUs]).
        assert ckpt["config"]["trainer"]["devices"] == [num % gpus], ckpt["config"]["trainer"]
        assert ckpt["config"]["trainer"]["strategy"] == "auto"
        assert devices_of(ckpt) == {f"cuda:{num % gpus}"}
    assert metrics(jobs[0])["train/loss"] != metrics(jobs[1])["train/loss"]  # seeds 1 and 2: two different runs


@pytest.mark.parametrize("batches_per_step", ["1", "null"], ids=["one_batch_a_step", "grouped_steps"])
def test_a_nan_loss_on_the_gpu_stops_the_job_as_diverged(batches_per_step, mnist_root, tmp_path):
    # SGD at 1e8 makes the loss inf at step 2 and NaN at step 3. 30 epochs are 210 optimizer steps;
    # README: "a loss that becomes NaN/inf stops the job at once as status: diverged".
    job = tmp_path / "job"
    result = run(
        *GPU, "optimizer=sgd", "optimizer.lr=1e8", "epochs=30", f"data.batches_per_step={batches_per_step}", *TINY,
        f"hydra.run.dir={job}", cwd=tmp_path, mnist_root=mnist_root,
    )  # fmt: skip
    assert result.returncode == 0, finished(result)  # diverging is a result, not a failure
    recorded = metrics(job)
    assert recorded["status"] == "diverged", recorded
    assert recorded["epochs"] < 10, recorded  # stopped within a few checks, not at the end of the run
    assert "diverged:" in result.stderr


def test_evaluate_and_predict_on_cuda_agree_with_the_training_run(gpu_job, mnist_root, tmp_path):
    before = confusion(gpu_job)
    result = command(["-m", EVALUATE, str(gpu_job), "--device", "cuda", "--n", "60", "--data-root", str(mnist_root)], tmp_path, mnist_root)
    assert result.returncode == 0, finished(result)
    # "test accuracy 90.00% (metrics.json: 90.00%)": the checkpoint on CUDA scores as the test pass did.
    measured, recorded = re.search(r"test accuracy ([\d.]+)% \(metrics.json: ([\d.]+)%\)", result.stdout).groups()
    assert measured == recorded
    assert confusion(gpu_job) == before
    with open(gpu_job / "evaluation" / "tsne.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60 and all(np.isfinite(float(row[k])) for row in rows for k in ("features_x", "features_y", "pixels_x", "pixels_y"))

    pictures = tmp_path / "pictures"
    pictures.mkdir()
    images, _ = tiny_digits(TINY_TEST, seed=1)  # the test digits, as 28x28 PNGs
    for k, image in enumerate(images[:20]):
        Image.fromarray(image.astype(np.uint8)).save(pictures / f"{k:02d}.png")
    tables = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / f"{device}.csv"
        result = command(["-m", PREDICT, str(gpu_job), str(pictures), "--csv", str(out), "--device", device], tmp_path, mnist_root)
        assert result.returncode == 0, finished(result)
        with open(out, newline="") as f:
            tables[device] = list(csv.DictReader(f))
    assert len(tables["cuda"]) == 20
    assert [row["prediction"] for row in tables["cuda"]] == [row["prediction"] for row in tables["cpu"]]
    probabilities = {device: np.array([[float(row[f"p{c}"]) for c in range(10)] for row in rows]) for device, rows in tables.items()}
    assert np.allclose(probabilities["cuda"], probabilities["cpu"], atol=1e-4)
