"""One Ctrl-C or SIGTERM stops a local sweep at any point: the running job recorded, no new job, the tables, exit 130/143; the same command resumes.

The basic launcher's sweeps run in this process (run.cli), the signal sent to it from the phase
under test; joblib's run as a user runs them, the signal sent as a terminal or `kill` sends it.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from lenet_lab import sweep_callbacks
from lenet_lab.training import evaluation_writer
from lenet_lab.training import train as train_module
from lenet_lab.training.classifier import Classifier
from tests.conftest import PROJECT, make_mnist_root, run_here
from tests.test_launchers import job_dirs, results

SEEDS = ("1", "2", "3")


def sweep_args(mnist_root, sweep, *extra):
    return [
        "-m", "model=mlp", f"seed={','.join(SEEDS)}", "epochs=2", f"data.root={mnist_root}", "data.val_size=20",
        f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.plots=false", *extra,
    ]  # fmt: skip


def run_cli(cwd, args) -> tuple[int, str, str]:
    """`python run.py ARGS` in this process (conftest's run_here): (exit code, stdout, stderr)."""
    result = run_here(*args, cwd=cwd)
    return result.returncode, result.stdout, result.stderr


def signal_once(signum, then=None):
    """A stand-in that signals this process the first time it is called, then does what `then` does."""
    sent = []

    def stand_in(*args, **kwargs):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signum)
        return then(*args, **kwargs) if then else None

    return stand_in


def statuses(sweep) -> dict[str, str]:
    return {job.name.split("_")[0]: json.loads((job / "metrics.json").read_text())["status"] for job in job_dirs(sweep)}


def at_epoch_2_of_job_0(signum):
    original, sent = Classifier.training_step, []

    def step(self, batch, batch_idx):
        if self.current_epoch == 1 and batch_idx == 0 and not sent:  # job 0: the jobs run in order
            sent.append(True)
            os.kill(os.getpid(), signum)
        return original(self, batch, batch_idx)

    return step


PHASES = {
    # phase: (what to patch, the stand-in, signal, job 0's status once stopped)
    "start-up": (lambda: (train_module, "check_input_size", signal_once(signal.SIGTERM, train_module.check_input_size)), signal.SIGTERM, None),
    "training": (lambda: (Classifier, "training_step", at_epoch_2_of_job_0(signal.SIGINT)), signal.SIGINT, "interrupted"),
    "testing": (lambda: (Classifier, "test_step", signal_once(signal.SIGTERM, Classifier.test_step)), signal.SIGTERM, "interrupted"),
    "evaluation": (lambda: (evaluation_writer, "evaluate_predictions", signal_once(signal.SIGINT, evaluation_writer.evaluate_predictions)), signal.SIGINT, "interrupted"),
    "between jobs": (lambda: (sweep_callbacks.AggregateSweep, "on_job_end", signal_once(signal.SIGTERM)), signal.SIGTERM, "completed"),
}


@pytest.mark.parametrize("phase", PHASES)
def test_one_signal_stops_a_sweep_which_the_same_command_resumes(monkeypatch, tmp_path, mnist_root, phase):
    patch, signum, job_0 = PHASES[phase]
    sweep = tmp_path / "sweep"
    sigint_before = signal.getsignal(signal.SIGINT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(*patch())
    code, out, err = run_cli(tmp_path, sweep_args(mnist_root, sweep))
    monkeypatch.undo()
    assert code == 128 + signum, err[-3000:]
    assert signal.getsignal(signal.SIGINT) is sigint_before  # the command gave the signals back
    if job_0 is None:  # stopped before any job: nothing to tabulate
        assert not sweep.exists() or not job_dirs(sweep)
    else:
        assert statuses(sweep) == {"0": job_0}  # the running job recorded, no other job started
        assert [row["status"] for row in results(sweep)] == [job_0]  # the tables of what exists
    assert f"stopped by {signal.Signals(signum).name}" in err and "Traceback" not in err
    assert not (sweep / ".stopping").exists()

    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(tmp_path, sweep_args(mnist_root, sweep))
    assert code == 0, err[-3000:]
    assert statuses(sweep) == {"0": "completed", "1": "completed", "2": "completed"}
    recorded = [json.loads((job / "metrics.json").read_text()) for job in job_dirs(sweep)]
    assert all(metrics["epochs"] == 2 for metrics in recorded)
    # Every number a completed job has, job 0's too: stopped while testing, it kept its training's numbers.
    assert all({"train/loss", "val/acc", "test/acc"} <= metrics.keys() for metrics in recorded), recorded[0]


def test_a_signal_while_the_tables_are_written_lets_them_finish(monkeypatch, tmp_path, mnist_root):
    sweep = tmp_path / "sweep"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sweep_callbacks, "aggregate", signal_once(signal.SIGINT, sweep_callbacks.aggregate))
    code, out, err = run_cli(tmp_path, sweep_args(mnist_root, sweep))
    assert code == 130, err[-3000:]
    assert statuses(sweep) == {"0": "completed", "1": "completed", "2": "completed"}
    assert [row["status"] for row in results(sweep)] == ["completed"] * 3 and "| all jobs" in out


def test_a_signal_stops_a_single_run_as_interrupted(monkeypatch, tmp_path, mnist_root):
    job = tmp_path / "job"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Classifier, "test_step", signal_once(signal.SIGTERM, Classifier.test_step))
    code, out, err = run_cli(tmp_path, ["model=mlp", "epochs=1", f"data.root={mnist_root}", "data.val_size=20", f"hydra.run.dir={job}"])
    assert code == 143, err[-3000:]
    recorded = json.loads((job / "metrics.json").read_text())
    assert recorded["status"] == "interrupted" and recorded["error"] == "stopped by SIGTERM" and recorded["epochs"] == 1


# --- joblib: the jobs run in worker processes -------------------------------------------------------


@pytest.fixture(scope="module")
def slow_mnist(tmp_path_factory):
    """An epoch at batch size 1 takes a few seconds: time to signal the jobs while they train."""
    return make_mnist_root(tmp_path_factory.mktemp("slow_mnist"), n_train=600, n_test=40)


def start_in_a_terminal(command, cwd) -> subprocess.Popen:
    """`command` in a session of its own, as a terminal starts it (Ctrl-C signals its whole process group).
    faulthandler is on in it and in joblib's workers, for `output_once_ended`."""
    environment = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    return subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def output_once_ended(process, lines, timeout=120) -> str:
    """All `process` printed (`lines` already read) once it ends. One that hangs fails the test with every
    Python stack of its group (SIGABRT to faulthandler): where it waits."""
    try:
        return "".join(lines) + process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGABRT)
        out = "".join(lines) + process.communicate(timeout=60)[0]
        pytest.fail(f"no end {timeout} s after the signal; the stacks of its processes:\n{out[-20000:]}")


def joblib_sweep(slow_mnist, sweep):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="needs the parallel extra: pip install -e '.[parallel]'")
    return [
        sys.executable, str(PROJECT / "run.py"), "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "model=mlp",
        "seed=1,2,3", "epochs=2", "data.batch_size=1", "data.val_size=20", f"data.root={slow_mnist}",
        f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.plots=false",
    ]  # fmt: skip


def test_under_joblib_a_signal_while_the_jobs_are_checked_stops_before_any_job(monkeypatch, tmp_path, mnist_root):
    # The command notes the signal without raising (it can't, once joblib's workers run) and stops at
    # the next configuration it checks: no worker is started, no job folder made.
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="needs the parallel extra: pip install -e '.[parallel]'")
    sweep = tmp_path / "sweep"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train_module, "check_input_size", signal_once(signal.SIGTERM, train_module.check_input_size))
    code, out, err = run_cli(tmp_path, sweep_args(mnist_root, sweep, "hydra/launcher=joblib", "model.hidden=[32],[16]"))
    assert code == 143, err[-3000:]
    assert not sweep.exists()  # the launcher never ran: it makes the sweep folder before its first job
    assert "stopped by SIGTERM" in err and "Traceback" not in err


@pytest.mark.slow  # a signal mid-run to joblib's workers, then the resume
@pytest.mark.parametrize("how", ["SIGTERM to the command", "Ctrl-C in its terminal"])
def test_one_signal_stops_a_joblib_sweep_and_its_workers_record_their_jobs(slow_mnist, tmp_path, how):
    sweep = tmp_path / "sweep"
    command = joblib_sweep(slow_mnist, sweep)
    process = start_in_a_terminal(command, tmp_path)
    # Until the first job is in its second epoch (its first checkpointed). The other worker's job is in
    # training too, or, on a busy machine where that worker starts seconds later, not yet begun.
    lines = []
    for line in process.stdout:
        lines.append(line)
        if " epoch 1/2 " in line:
            first = line.split(":")[0].lstrip("[")  # "[0:data.batch_size=1,...] epoch 1/2 ..."
            break
    started = time.monotonic()
    if how == "Ctrl-C in its terminal":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    out = output_once_ended(process, lines)
    signum = signal.SIGINT if how.startswith("Ctrl-C") else signal.SIGTERM
    assert process.returncode == 128 + signum, out[-3000:]
    assert time.monotonic() - started < 60, out[-3000:]
    stopped = statuses(sweep)
    # The jobs that had begun are recorded interrupted (as a rule both workers': {"0": ..., "1": ...}); no job
    # had ended, so no worker was free to begin the third, and none begins after the signal.
    assert stopped[first] == "interrupted" and set(stopped.values()) == {"interrupted"} and len(stopped) <= 2, out[-3000:]
    assert [row["status"] for row in results(sweep)] == list(stopped.values())
    assert "Traceback" not in out
    if how == "Ctrl-C in its terminal":  # the resume is the same as after SIGTERM: once is enough
        return
    resumed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert statuses(sweep) == {str(n): "completed" for n in range(3)}
    # joblib ran the jobs two at a time, each with its own seed, and their epoch lines reached the sweep's output.
    assert "Joblib.Parallel(n_jobs=2," in resumed.stdout and "is launching 3 jobs" in resumed.stdout
    resumed_first = "\n".join(line for line in resumed.stdout.splitlines() if line.startswith(f"[{first}:"))
    assert " epoch 1/2 " not in resumed_first  # it went on from its first epoch's checkpoint
    jobs = job_dirs(sweep)
    assert [yaml.safe_load((job / ".hydra" / "config.yaml").read_text())["seed"] for job in jobs] == [1, 2, 3]
    assert len({json.loads((job / "metrics.json").read_text())["train/loss"] for job in jobs}) == 3  # different seeds, different runs
    assert [row["status"] for row in results(sweep)] == ["completed"] * 3


@pytest.mark.slow  # a signal to joblib's workers while they start
def test_a_ctrl_c_while_joblibs_workers_start_is_no_traceback_and_no_lost_job(slow_mnist, tmp_path):
    # The workers are still importing torch: without launch/joblib_workers.py each printed its
    # KeyboardInterrupt traceback and joblib killed the others, a job just begun left without a record.
    sweep = tmp_path / "sweep"
    process = start_in_a_terminal(joblib_sweep(slow_mnist, sweep), tmp_path)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "Launching" in line:
            break
    time.sleep(0.2)  # loky's workers are starting
    os.killpg(process.pid, signal.SIGINT)
    out = output_once_ended(process, lines)
    assert process.returncode == 128 + signal.SIGINT, out[-3000:]
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out[-3000:]
    assert set(statuses(sweep).values()) <= {"interrupted"}  # a job that had begun says so; the others have no folder


def test_joblibs_workers_start_with_sigint_blocked_and_the_command_keeps_its_own(tmp_path):
    from lenet_lab.launch.joblib_workers import missing_private_api, started_with_sigint_blocked

    pytest.importorskip("joblib")
    assert missing_private_api() == [], "joblib's loky changed what lenet_lab/launch/joblib_workers.py uses: update it"
    from joblib.externals.loky.backend.fork_exec import fork_exec

    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    answer = tmp_path / "blocked"
    code = f"import signal, pathlib; pathlib.Path({str(answer)!r}).write_text(str(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])))"
    pid = started_with_sigint_blocked(fork_exec)([sys.executable, "-c", code], [])
    os.waitpid(pid, 0)
    assert answer.read_text() == "True"  # the worker: a Ctrl-C waits until its first job takes the signals
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before  # the command: as it was


def test_a_second_signal_ends_the_command_at_once(monkeypatch):
    from lenet_lab.training import stop_signals

    killed = []
    monkeypatch.setattr(stop_signals.os, "kill", lambda pid, signum: killed.append(signum))
    stop_signals.install()
    try:
        stop_signals.tables_started()  # a first signal now is noted, not raised
        stop_signals._handle(signal.SIGTERM, None)
        assert stop_signals.requested() == signal.SIGTERM and killed == []
        stop_signals._handle(signal.SIGTERM, None)  # the user insists
        assert killed == [signal.SIGTERM] and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        stop_signals.finished()
    assert signal.getsignal(signal.SIGTERM) is not stop_signals._handle
