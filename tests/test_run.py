"""run.py as a user runs it, on tiny data: real Hydra multiruns (in this process: conftest's small_sweep,
run.cli), and a real subprocess where the process itself is tested (its exit code and stderr, a signal)."""

import json
import os
import signal
import subprocess
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from lenet_lab.job_folder import csv_metric_files
from lenet_lab.reports.events import read_scalars
from tests.conftest import PROJECT, run_fresh
from tests.test_stopping import run_cli


def hparams_of(job):
    """The HParams plugin's session start info of a job, as TensorBoard reads it."""
    for event_file in job.glob("events.out.tfevents.*"):
        events = EventAccumulator(str(event_file))
        events.Reload()
        try:
            content = events.PluginTagToContent("hparams")
        except KeyError:  # an event file of scalars only
            continue
        if "_hparams_/session_start_info" in content:
            return plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"]).session_start_info.hparams
    raise AssertionError(f"no HParams in {job}")




def test_multirun_sweep_leaves_one_job_dir_per_combination(small_sweep):
    # python run.py -m model=lenet,resnet18 optimizer=adam,sgd epochs=1 logger=[tensorboard,csv]
    assert small_sweep.code == 0, small_sweep.stderr[-3000:]
    sweep = small_sweep.dir
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name[0].isdigit())
    assert len(jobs) == 4
    combos = set()
    for job in jobs:
        metrics = json.loads((job / "metrics.json").read_text())
        assert metrics["status"] == "completed" and metrics["epochs"] == 1
        assert list(job.glob("events.out.tfevents.*")) and csv_metric_files(job), job  # both loggers of logger=[tensorboard,csv]
        overrides = (job / ".hydra" / "overrides.yaml").read_text()
        combos.add((metrics["num_params"], "optimizer=adam" in overrides))
    assert combos == {(61_706, True), (61_706, False), (11_175_370, True), (11_175_370, False)}
    # TensorBoard's HParams tab names each job's choices, read back through TensorBoard's own reader.
    named = {(hparams["model"].string_value, hparams["optimizer"].string_value, hparams["lr_scheduler"].string_value) for hparams in map(hparams_of, jobs)}
    assert named == {("lenet", "adam", "cosine"), ("lenet", "sgd", "cosine"), ("resnet18", "adam", "cosine"), ("resnet18", "sgd", "cosine")}
    # A sweep prints one line per epoch per job, not a progress bar.
    epoch_lines = [line for line in small_sweep.stdout.splitlines() if "epoch 1/1" in line]
    assert len(epoch_lines) == 4, small_sweep.stdout
    # ...and ends with its comparison table, aggregated into the sweep folder.
    assert (sweep / "results.csv").is_file() and (sweep / "results.md").is_file()
    assert "| model" in small_sweep.stdout and "| optimizer" in small_sweep.stdout


def test_a_failing_job_does_not_sink_the_sweep_and_a_rerun_skips_finished_jobs(mnist_root, tmp_path, monkeypatch):
    sweep = tmp_path / "sweep"
    monkeypatch.chdir(tmp_path)
    # StepLR(step_size=0) builds, then divides by zero when it first steps, after epoch 1: jobs 1
    # and 3 raise mid-training, and job 2 must still run after job 1 failed.
    command = [
        "-m", "model=mlp", "model.hidden=[32],[16]", "lr_scheduler=step", "lr_scheduler.step_size=1,0",
        "epochs=2", f"data.root={mnist_root}", "data.val_size=20", f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.plots=false", "threads=1",
    ]  # fmt: skip
    code, _, err = run_cli(tmp_path, command)
    assert code == 1
    statuses = {job.name.split("_")[0]: json.loads((job / "metrics.json").read_text()) for job in sweep.glob("*_*")}
    assert {num: m["status"] for num, m in statuses.items()} == {"0": "completed", "1": "failed", "2": "completed", "3": "failed"}
    assert "ZeroDivisionError" in statuses["1"]["error"]
    assert "did not complete" in err
    assert (sweep / "results.csv").read_text().count("failed") == 2

    # The same command again: completed jobs are skipped (not retrained), failed ones run again.
    stamps = {job.name: (job / "metrics.json").stat().st_mtime_ns for job in sweep.glob("*_*")}
    code, out, _ = run_cli(tmp_path, command)
    assert code == 1
    assert out.count("already completed, skipped") == 2
    for job in sweep.glob("*_*"):
        changed = (job / "metrics.json").stat().st_mtime_ns != stamps[job.name]
        assert changed == (statuses[job.name.split("_")[0]]["status"] == "failed"), job.name


def test_missing_data_is_one_line_and_exit_code_2(tmp_path):
    result = run_fresh("data.download=false", f"data.root={tmp_path / 'nowhere'}", cwd=tmp_path)  # the process: nothing else on stderr
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MNIST files missing" in lines[0] and "LENET_LAB_DATA" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


EPOCHS = 20  # after the signal at epoch 3 the job still has 17 epochs of 100 steps (~10 s on one thread) to go


@pytest.mark.slow
def test_sigterm_leaves_interrupted_and_a_rerun_finishes_the_job(mnist_root, tmp_path):
    """A cluster pre-empting a job: SIGTERM mid-run, then the same command into the same folder."""
    job = tmp_path / "job"
    command = [
        sys.executable, str(PROJECT / "run.py"), f"epochs={EPOCHS}", "data.batch_size=1", "data.val_size=20",
        f"hydra.run.dir={job}", "trainer.enable_progress_bar=false", "threads=1",  # two threads spin on a busy machine: 10x slower
    ]  # fmt: skip
    env = {**os.environ, "LENET_LAB_DATA": str(mnist_root)}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:  # wait until two epochs are checkpointed
        if line.startswith(f"epoch 3/{EPOCHS}"):
            process.send_signal(signal.SIGTERM)
            break
    process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    interrupted = json.loads((job / "metrics.json").read_text())
    assert interrupted["status"] == "interrupted" and 2 <= interrupted["epochs"] < EPOCHS
    assert (job / "checkpoints" / "last.ckpt").is_file()

    resumed = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    epochs_run = [int(line.split()[1].split("/")[0]) for line in resumed.stdout.splitlines() if line.startswith("epoch ")]
    assert epochs_run[0] == interrupted["epochs"] + 1 and epochs_run[-1] == EPOCHS  # it did not start over
    metrics = json.loads((job / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs"] == EPOCHS
    # TensorBoard holds every epoch once, across the event files of both runs.
    steps = [step for f in job.glob("events.out.tfevents.*") for tag, step, _, _ in read_scalars(f)[0] if tag == "val/acc"]
    assert len(steps) == EPOCHS and len(set(steps)) == EPOCHS
