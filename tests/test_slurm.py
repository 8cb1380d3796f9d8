"""Sweeps on a real SLURM cluster: job arrays, failures, preemption, time limits, a job on 2 processes.

A single-node cluster (tests/slurm_cluster.py) starts for this file, once in each pytest-xdist worker
that runs its tests, and stops after it. The tests run `python run.py -m hydra/launcher=slurm ...` as a
user does, on tiny data; they take a few minutes, are marked `slurm` (pytest -m "not slurm" runs the
rest), and skip where SLURM and munge are not installed (apt-get install slurm-wlm munge) or the
submitit launcher is not (the parallel extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from lenet_lab.launch.slurm_watcher import read_scontrol, task_ids
from lenet_lab.reports.events import read_scalars
from tests.conftest import PROJECT, make_mnist_root, project_on_path
from tests.slurm_cluster import INSTALL_HINT, missing_binaries, start_cluster
from tests.test_launchers import job_dirs, metrics, results

# Under pytest-xdist (--dist loadgroup) the SLURM tests run in two groups of about the same length
# (2-2.5 minutes here), each in one worker with a cluster of its own: they mostly wait on their
# cluster, so two groups end sooner than one. tests/conftest.py gives them a worker beside one per core.
FIRST_CLUSTER = pytest.mark.xdist_group("slurm_1")
SECOND_CLUSTER = pytest.mark.xdist_group("slurm_2")

# CPU-only jobs of one CPU each, small enough for any machine; plots off (matplotlib is slow to import).
SLURM = (
    "-m", "hydra/launcher=slurm", "hydra.launcher.gpus_per_node=0", "hydra.launcher.cpus_per_task=1",
    "hydra.launcher.mem_gb=1", "hydra.callbacks.aggregate.plots=false", "trainer.accelerator=cpu",
)  # fmt: skip


def skip_without_slurm() -> None:
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the parallel extra: pip install -e '.[parallel]'")
    missing = missing_binaries()
    if missing:
        pytest.skip(f"SLURM not installed (no {', '.join(missing)}): {INSTALL_HINT}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    skip_without_slurm()
    cluster = start_cluster(tmp_path_factory.mktemp("slurm"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def slow_mnist(tmp_path_factory):
    """Enough images that an epoch at batch size 1 takes a few seconds: time to preempt a job mid-training."""
    return make_mnist_root(tmp_path_factory.mktemp("slow_mnist"), n_train=800, n_test=40)


def sweep_command(cluster, *args: str, data: Path) -> tuple[list[str], dict]:
    env = {
        **os.environ,
        **cluster.env,
        "LENET_LAB_DATA": str(data),
        **project_on_path(),  # jobs import run.py and the project's Hydra plugins, as when submitted from the project root
    }
    return [sys.executable, str(PROJECT / "run.py"), *SLURM, *args], env


def run_sweep(cluster, *args: str, cwd: Path, data: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    command, env = sweep_command(cluster, *args, data=data)
    try:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    finally:
        cluster.clear()


class Sweep:
    """A sweep running in the background, for a test to act on its jobs while they run."""

    def __init__(self, cluster, *args: str, cwd: Path, data: Path):
        command, env = sweep_command(cluster, *args, data=data)
        self.out, self.err = cwd / "sweep.out", cwd / "sweep.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        self.cluster = cluster

    def wait(self, timeout: float) -> subprocess.CompletedProcess:
        try:
            returncode = self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.cluster.clear()
        return subprocess.CompletedProcess(self.process.args, returncode, self.out.read_text(), self.err.read_text())


def wait_for(condition, what: str, timeout: float, sweep: Sweep | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if sweep is not None and sweep.process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s" + (f"\n{sweep.err.read_text()[-3000:]}" if sweep else ""))


def epochs_logged(job: Path) -> list[list[int]]:
    """Per TensorBoard event file, oldest first: the epochs (0-based) whose training accuracy it holds."""
    per_file = []
    for event_file in sorted(job.glob("events.out.tfevents.*"), key=lambda f: f.stat().st_mtime):
        rows = read_scalars(event_file)[0]
        epoch_at = {step: int(value) for tag, step, value, _ in rows if tag == "epoch"}  # Lightning logs it beside every metric
        epochs = [epoch_at[step] for tag, step, _, _ in rows if tag == "train/acc"]
        if epochs:  # other files hold the test numbers, HParams, figures
            per_file.append(epochs)
    return per_file


def submitit_logs(sweep_dir: Path, task: int = 0, stream: str = "out") -> str:
    """What the jobs' processes number `task` printed (stream "out" or "err"), every job's, every run's."""
    return "\n".join(f.read_text() for f in sorted((sweep_dir / ".submitit").glob(f"*/*_{task}_log.{stream}")))


def submitit_lines(sweep_dir: Path) -> list[str]:
    """submitit's own lines in the jobs' logs (once each: after Hydra set up logging, the job's log repeats them)."""
    return [line for line in submitit_logs(sweep_dir).splitlines() if line.startswith("submitit ")]


# --- job arrays -------------------------------------------------------------------------------------


@pytest.mark.slurm
@FIRST_CLUSTER
def test_a_three_job_sweep_runs_as_an_array_at_most_two_at_a_time_and_a_job_that_raises_is_recorded_failed(cluster, mnist_root, tmp_path):
    sweep = tmp_path / "sweep"
    most, stop = [0], threading.Event()

    def watch():  # SLURM's own count of the sweep's running jobs, polled while it runs
        while not stop.is_set():
            most[0] = max(most[0], len(cluster.running()))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        # StepLR(step_size=0) divides by zero after the first epoch: job 1 fails mid-training, jobs 0 and 2 complete.
        result = run_sweep(
            cluster, "hydra.launcher.array_parallelism=2", "model=mlp", "lr_scheduler=step", "lr_scheduler.step_size=1,0,2",
            "epochs=2", "data.val_size=20", f"hydra.sweep.dir={sweep}", cwd=tmp_path, data=mnist_root,
        )  # fmt: skip
    finally:
        stop.set()
        watcher.join()
    assert result.returncode == 1, result.stderr[-3000:]
    jobs = job_dirs(sweep)
    assert [metrics(job)["status"] for job in jobs] == ["completed", "failed", "completed"]
    assert "ZeroDivisionError" in metrics(jobs[1])["error"]
    assert [row["status"] for row in results(sweep)] == ["completed", "failed", "completed"]
    assert (sweep / "results.md").is_file() and "1 of 3 jobs did not complete" in result.stderr
    # The node has room for 4 one-CPU jobs: the array's limit, not the node, kept it to 2.
    assert most[0] == 2
    (script,) = (sweep / ".submitit").glob("*/*_submission.sh")
    assert "#SBATCH --array=0-2%2" in script.read_text().splitlines()
    # Each job's output is in its own log file, as the README says; the failure's traceback in its own.
    assert submitit_logs(sweep).count("epoch 2/2") == 2
    assert "ZeroDivisionError" in submitit_logs(sweep, stream="*")
    # Accounting is off on this cluster: said once, not once per poll of the jobs' states.
    terminal = result.stdout + result.stderr
    assert terminal.count("SLURM accounting is off") == 1 and "Bypassing sacct error" not in terminal
    assert "storage is disabled\n" not in terminal.replace("disabled): job states", "")  # sacct's own line
    assert "srun` command is available" not in terminal


# --- preemption and time limits ---------------------------------------------------------------------


@pytest.mark.slurm
@SECOND_CLUSTER
def test_a_preempted_job_resumes_from_its_checkpoint_with_every_epoch_once(cluster, slow_mnist, tmp_path):
    sweep_dir, epochs = tmp_path / "sweep", 3
    sweep = Sweep(
        cluster, "model=mlp", f"epochs={epochs}", "data.batch_size=1", "data.val_size=20",
        f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path, data=slow_mnist,
    )  # fmt: skip
    job_id = wait_for(lambda: cluster.running() and cluster.running()[0], "the job started", 60, sweep)
    job = sweep_dir / "0_data.batch_size=1,data.val_size=20,epochs=3,model=mlp"
    wait_for(lambda: (job / "checkpoints" / "last.ckpt").is_file(), "the first epoch's checkpoint", 120, sweep)
    cluster.command("scontrol", "requeue", job_id)  # what a preempting higher-priority job does
    result = sweep.wait(timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(cluster.show_job(job_id)["Restarts"]) == 1
    recorded = metrics(job)
    assert recorded["status"] == "completed" and recorded["epochs"] == epochs
    # Two runs, two event files: the second starts after the epochs the first finished, nothing twice.
    first, second = epochs_logged(job)
    assert first and second and first + second == list(range(epochs)), (first, second)
    logs = submitit_logs(sweep_dir)
    assert len([line for line in submitit_lines(sweep_dir) if "Starting with JobEnvironment" in line]) == 2  # both runs
    assert [logs.count(f" epoch {n}/{epochs} ") for n in range(1, epochs + 1)] == [1] * epochs, logs


@pytest.mark.slurm
@pytest.mark.slow  # trains for a minute in all, by design: past SLURM's shortest time limit
@SECOND_CLUSTER
def test_a_job_that_hits_the_time_limit_is_resubmitted_and_resumes(cluster, slow_mnist, tmp_path):
    # SLURM checks time limits every 30 s: with a 1-minute limit and the signal 1 s before it, submitit
    # is told between 29 and 59 s into a run (after the first epoch), the run is killed 1-30 s later.
    # The job trains for 60 s in all (Lightning's max_time, which a resumed job carries on counting):
    # no run can finish it before its signal, so it hits the limit at least once on any machine.
    sweep_dir = tmp_path / "sweep"
    sweep = Sweep(
        cluster, "model=mlp", "epochs=1000", "++trainer.max_time=00:00:01:00", "data.batch_size=1", "data.val_size=20",
        "hydra.launcher.timeout_min=1", "hydra.launcher.signal_delay_s=1", "hydra.launcher.max_num_timeout=3",
        f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path, data=slow_mnist,
    )  # fmt: skip
    result = sweep.wait(timeout=400)
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = job_dirs(sweep_dir)
    recorded = metrics(job)
    assert recorded["status"] == "completed", recorded
    runs = epochs_logged(job)
    # Each run carried on where the one before stopped: every epoch once, none lost.
    assert len(runs) >= 2 and [epoch for run in runs for epoch in run] == list(range(recorded["epochs"])), runs
    said = submitit_lines(sweep_dir)
    timeouts = len([line for line in said if "this job is timed-out" in line])
    assert timeouts >= 1, said
    assert len([line for line in said if "Requeued job" in line]) == timeouts
    starts = len([line for line in said if "Starting with JobEnvironment" in line])
    # A run requeued after max_time was spent (while testing) resumes, trains nothing and logs no epoch.
    assert starts == timeouts + 1 and starts - 1 <= len(runs) <= starts
    assert recorded["train_time_s"] >= 60  # counted across the runs, like the training


# --- one job on several processes ---------------------------------------------------------------------


@pytest.mark.slurm
@FIRST_CLUSTER
def test_a_job_on_two_processes_trains_once_with_slurms_processes_joined(cluster, mnist_root, tmp_path):
    sweep = tmp_path / "sweep"
    # 100 training images in batches of 10: 10 steps an epoch on one process, 5 on each of two joined.
    result = run_sweep(
        cluster, "hydra.launcher.tasks_per_node=2", "trainer.devices=2", "model=mlp", "epochs=2",
        "data.val_size=20", "data.batch_size=10", f"hydra.sweep.dir={sweep}", cwd=tmp_path, data=mnist_root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = job_dirs(sweep)
    recorded = metrics(job)
    assert recorded["status"] == "completed" and recorded["epochs"] == 2
    assert epochs_logged(job) == [[0, 1]]  # one event file, each epoch once
    checkpoint = torch.load(job / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 2 * 5
    assert submitit_logs(sweep, 0) and submitit_logs(sweep, 1)  # SLURM started both processes


# --- jobs SLURM ends without requeueing them ---------------------------------------------------------


@pytest.mark.slurm
@FIRST_CLUSTER
def test_a_job_cancelled_by_slurm_is_recorded_failed_and_the_others_complete(cluster, slow_mnist, tmp_path):
    # Job 0 (batch size 1) trains for a while; job 1 (batch size 64) is quick. Job 0 is cancelled
    # once its first epoch is checkpointed: submitit used to raise UncompletedJobError there and end
    # the sweep with a traceback, no tables, and job 1 unwaited.
    sweep_dir = tmp_path / "sweep"
    sweep = Sweep(
        cluster, "model=mlp", "epochs=5", "data.batch_size=1,64", "data.val_size=20",
        f"hydra.sweep.dir={sweep_dir}", cwd=tmp_path, data=slow_mnist,
    )  # fmt: skip
    job = sweep_dir / "0_data.batch_size=1,data.val_size=20,epochs=5,model=mlp"
    wait_for(lambda: (job / "checkpoints" / "last.ckpt").is_file(), "job 0's first checkpoint", 180, sweep)
    (array_id,) = {line.split("_")[0] for line in cluster.command("squeue", "-h", "-r", "-o", "%i").split()}
    cluster.command("scancel", f"{array_id}_0")
    result = sweep.wait(timeout=240)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "UncompletedJobError" not in result.stderr
    jobs = job_dirs(sweep_dir)
    recorded = [metrics(j) for j in jobs]
    assert [m["status"] for m in recorded] == ["failed", "completed"]
    assert recorded[0]["error"].startswith("SLURM ended the job: CANCELLED") and recorded[0]["epochs"] >= 1  # what it trained is kept
    assert [row["status"] for row in results(sweep_dir)] == ["failed", "completed"]  # the tables
    assert "1 of 2 jobs did not complete" in result.stderr
    assert f"job 0 (SLURM job {array_id}_0): SLURM ended the job: CANCELLED" in result.stdout + result.stderr  # said when it happens


def test_scontrol_records_become_submitits_job_states():
    lines = [
        "JobId=7 JobName=run JobState=RUNNING Reason=None NodeList=vm",
        "JobId=9 ArrayJobId=8 ArrayTaskId=0 JobState=COMPLETED NodeList=vm",
        "JobId=10 ArrayJobId=8 ArrayTaskId=1 JobState=CONFIGURING NodeList=vm",
        "JobId=8 ArrayJobId=8 ArrayTaskId=2-3%2 JobState=PENDING NodeList=(null)",
    ]
    states = {job: record["State"] for job, record in read_scontrol("\n".join(lines)).items()}
    assert states == {"7": "RUNNING", "8_0": "COMPLETED", "8_1": "RUNNING", "8_2": "PENDING", "8_3": "PENDING"}
    assert read_scontrol("JobId=5 JobState=OUT_OF_MEMORY Reason=OutOfMemory NodeList=vm")["5"]["Reason"] == "OutOfMemory"
    assert task_ids("1,4-5%2") == ["1", "4", "5"]
