"""Tiny MNIST-shaped IDX files, config composition, and the work many tests read: one trained job, one small sweep.

The session fixtures (`trained_job`, `small_sweep`) are read-only for the tests that use them: a test
that changes a job folder copies it first (`trained_job_copy`), and each checks at the end of the
session that nobody wrote into it. run.py runs in the test's own process (`run_here`) unless the process
itself is what a test looks at (`run_fresh`: a signal, a worker, stderr as a whole, a missing package);
a job's evaluation figures are drawn only where a test looks at them (`quick_figures`).
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

import lenet_lab.startup  # noqa: F401  (as every entry point: the config's resolvers and schema)

PROJECT = Path(__file__).resolve().parents[1]
TINY_TRAIN, TINY_TEST = 120, 40


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX: magic (0, 0, type 0x08 = ubyte, number of dims), big-endian dims, then the bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def tiny_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable stand-ins for digits: a bright 4x4 block whose position encodes the label."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 30, size=(n, 28, 28))
    for image, label in zip(images, labels):
        row, col = 4 + 4 * (label // 5), 2 + 5 * (label % 5)
        image[row : row + 4, col : col + 4] = 255
    return images, labels


def make_mnist_root(root: Path, digits=tiny_digits, n_train: int = TINY_TRAIN, n_test: int = TINY_TEST) -> Path:
    """MNIST/raw/ under `root` with `digits(n, seed) -> (images, labels)` as training and test sets."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = digits(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory) -> Path:
    return make_mnist_root(tmp_path_factory.mktemp("tiny_mnist"))


def compose_tiny(mnist_root: Path, *overrides: str):
    """The run's config as `python run.py OVERRIDES` would build it, on the tiny data at `mnist_root`."""
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        return compose("config", overrides=[f"data.root={mnist_root}", "data.val_size=20", *overrides])


@pytest.fixture
def compose_config(mnist_root):
    """compose(*overrides) -> the run's config as `python run.py OVERRIDES` would build it, on tiny data."""
    return lambda *overrides: compose_tiny(mnist_root, *overrides)


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder`: (size, modification time), to tell whether anything wrote into it."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_unchanged(folder: Path, before: dict[str, tuple[int, int]]) -> None:
    """Fails if a test changed, added or removed a file below `folder` since `before` (its folder_state)."""
    after = folder_state(folder)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"a test wrote into the shared {folder} (copy it into tmp_path first): {changed}"


# One constant rate: the lr curve is known. Two epochs: the synthetic digits are learned, the numbers are real.
TRAINED_JOB = ("data.batch_size=16", "epochs=2", "optimizer.lr=0.01", "lr_scheduler=none", "threads=1")


@pytest.fixture(scope="session")
def trained_job(tmp_path_factory, mnist_root):
    """`python run.py` of the default LeNet on the tiny digits (TRAINED_JOB's overrides), tested, its
    evaluation figures drawn (the one job that draws them): (job folder, the metrics train() returned). Read-only."""
    from lenet_lab.evaluation import figures, job_evaluation
    from lenet_lab.training.train import train

    job_dir = tmp_path_factory.mktemp("trained_job")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(job_evaluation, "figures", figures)  # drawn, also when first asked for under quick_figures
        metrics = train(compose_tiny(mnist_root, *TRAINED_JOB), job_dir)
    before = folder_state(job_dir)
    yield job_dir, metrics
    assert_unchanged(job_dir, before)


@pytest.fixture
def trained_job_copy(trained_job, tmp_path):
    """The session's trained job, copied into this test's tmp_path: free to change."""
    job_dir, metrics = trained_job
    copy = shutil.copytree(job_dir, tmp_path / job_dir.name)
    return copy, metrics


def run_here(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python run.py ARGS` in `cwd`, run in this process (run.cli): its exit code, stdout and stderr, as
    subprocess.run would return them. For tests of what the command does; a test of the process itself (a
    signal, an interpreter without a package) uses run_fresh. `env`: variables set while it runs."""
    import run

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as monkeypatch, redirect_stdout(out), redirect_stderr(err):
        monkeypatch.chdir(cwd)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "argv", ["run.py", *args])
        try:
            run.cli()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    return subprocess.CompletedProcess(["run.py", *args], code, out.getvalue(), err.getvalue())


def project_on_path() -> dict[str, str]:
    """PYTHONPATH with the project root in it: the jobs a launcher starts in their own interpreters
    (submitit's) import run.py and the project's Hydra plugins from there, as when a user runs the
    command from the project root."""
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))}


def run_fresh(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python run.py ARGS` in `cwd`, in a fresh interpreter: for a test of the process itself.
    `env`: variables added to this process's environment (and project_on_path)."""
    environment = {**os.environ, **project_on_path(), **(env or {})}
    return subprocess.run([sys.executable, str(PROJECT / "run.py"), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


SMALL_SWEEP = ("model=lenet,resnet18", "optimizer=adam,sgd", "epochs=1", "logger=[tensorboard,csv]", "tags=[smoke]", "threads=1")


@pytest.fixture(scope="session")
def small_sweep(tmp_path_factory, mnist_root):
    """`python run.py -m model=lenet,resnet18 optimizer=adam,sgd epochs=1 logger=[tensorboard,csv] tags=[smoke]`
    on the tiny digits, run in this process (run_here), aggregated as every sweep is: SimpleNamespace(dir,
    code, stdout, stderr). Four jobs, each logged to TensorBoard and to CSV; their evaluation figures are
    skip_figures' one pixel (the sweep's own figures are drawn). Read-only: tests/test_run.py and
    tests/test_loggers.py (which copies it) read it."""
    folder = tmp_path_factory.mktemp("small_sweep")
    sweep = folder / "sweep"
    with pytest.MonkeyPatch.context() as monkeypatch:
        skip_figures(monkeypatch)
        result = run_here("-m", *SMALL_SWEEP, f"data.root={mnist_root}", "data.val_size=20", f"hydra.sweep.dir={sweep}", cwd=folder)
    before = folder_state(sweep)
    yield SimpleNamespace(dir=sweep, code=result.returncode, stdout=result.stdout, stderr=result.stderr)
    assert_unchanged(sweep, before)


def skip_figures(monkeypatch) -> None:
    """From now on (until `monkeypatch` undoes it) a tested job's evaluation figures are not drawn: each
    PNG (and TensorBoard image) is one black pixel. Its tables, predictions and the files' names stay as
    they are. For jobs no test looks at the figures of; tests/test_evaluate.py checks the real ones."""
    import numpy as np

    from lenet_lab.evaluation import figures, job_evaluation

    drawn = {name: (lambda *args, **kwargs: None) for name in dir(figures) if name.endswith("_figure")}
    stand_in = SimpleNamespace(**drawn, render=lambda fig, *args, **kwargs: np.zeros((1, 1, 3), np.uint8), write_png=figures.write_png)
    monkeypatch.setattr(job_evaluation, "figures", stand_in)


@pytest.fixture(autouse=True)
def quick_figures(monkeypatch):
    """skip_figures in every test: the evaluation figures are drawn only where a test looks at them, by
    putting lenet_lab.evaluation.figures back, as the session's trained_job does (tests/test_evaluate.py
    reads its figures). A module or session fixture that trains calls skip_figures itself."""
    skip_figures(monkeypatch)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run the tests marked slow (real trainings, signals to processes of their own); CI does")


def pytest_collection_modifyitems(config, items):
    """Plain `pytest` is the quick pass a change is checked with: the few tests marked slow (they train
    for real, or start and signal processes of their own) are skipped, with the reason, unless
    --runslow is given. CI runs both (.ci/run)."""
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pytest --runslow runs it (CI does)")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: where xdist is not installed nothing calls it
def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto` (pyproject's addopts): a worker per core, at most 4 (each imports torch, ~1 GB), and one
    more where the SLURM tests run: they mostly wait on their clusters, the others keep the cores busy.
    (One more for each of their two groups was slower on 2 cores: their jobs need the CPU too.)"""
    from tests.slurm_cluster import missing_binaries

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    markexpr = config.option.markexpr or ""
    slurm_tests_run = (not markexpr or ("slurm" in markexpr and "not slurm" not in markexpr)) and not missing_binaries()
    return max(1, min(4, cores) + slurm_tests_run)
