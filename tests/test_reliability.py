"""Bad input fails at once with one line and exit code 2; divergence and interruption leave a status; resume."""

import json
import os
import signal
import time

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lenet_lab.errors import DataError
from lenet_lab.training.classifier import Classifier
from lenet_lab.training.train import train
from tests.conftest import make_mnist_root, run_here
from tests.interruption import train_interrupted_in_epoch_3


def run_cli(tmp_path, *args):
    """`python run.py ARGS` in this process (conftest's run_here), ending with an exit code: (it, stderr)."""
    result = run_here(*args, cwd=tmp_path)
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    "override, says",
    [
        ("optimizer.learning_rate=0.1", "learning_rate"),
        ("epoch=3", "'epoch'"),
        ("epochs=ten", "'ten'"),
        ("data.batch_size=-1", "data.batch_size=-1 must be at least 1"),
        ("optimizer.lr=0", "optimizer.lr=0 must be a number above 0"),
        ("data.normalize=zscore", "standard"),
        ("model=lenet6", "lenet_keras"),  # lists the valid options
        ("model.activation=gelu", "unknown activation 'gelu'"),
        ("data.pad=0", "does not take 28x28 inputs (data.pad=0)"),  # LeNet needs 32x32
        ("seed=-1", "seed=-1"),
        ("lr_scheduler=piecewise", "lr_scheduler.values must be set"),  # a table only named configs carry
        ("data.batches_per_step=0", "data.batches_per_step=0 must be at least 1"),
    ],
)
def test_bad_config_is_one_line_and_exit_code_2(tmp_path, mnist_root, override, says):
    code, err = run_cli(tmp_path, override, f"data.root={mnist_root}", "data.val_size=20")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert says in err
    assert not list(tmp_path.rglob("events.out.tfevents.*"))  # nothing trained
    for metrics in tmp_path.rglob("metrics.json"):  # a run folder, if any, says why
        assert json.loads(metrics.read_text())["status"] == "failed"


@pytest.mark.parametrize("full_error", ["0", "1", None])
def test_bad_config_is_one_line_whatever_hydra_full_error_says(monkeypatch, tmp_path, mnist_root, full_error):
    if full_error is None:
        monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    else:
        monkeypatch.setenv("HYDRA_FULL_ERROR", full_error)
    code, err = run_cli(tmp_path, "optimizer.learning_rate=0.1", f"data.root={mnist_root}")
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert os.environ.get("HYDRA_FULL_ERROR") == full_error  # the user's setting is left as it was


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_missing_accelerator_is_named(tmp_path, mnist_root):
    code, err = run_cli(tmp_path, "trainer.accelerator=gpu", f"data.root={mnist_root}", "data.val_size=20")
    assert code == 2 and "accelerator=gpu" in err and len(err.strip().splitlines()) == 1


def test_sweep_without_data_fails_once_before_any_job(tmp_path):
    code, err = run_cli(tmp_path, "-m", "seed=1,2", f"data.root={tmp_path / 'nowhere'}", "data.download=false")
    assert code == 2 and "MNIST files missing" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.rglob("metrics.json"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_sweep_checks_the_accelerator_and_group_options_before_any_job(tmp_path, mnist_root):
    for overrides, says in ((["trainer.accelerator=cpu,gpu"], "accelerator=gpu"), (["optimizer=adam,sgdd"], "sgdd")):
        code, err = run_cli(tmp_path, "-m", *overrides, f"data.root={mnist_root}", "data.val_size=20")
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.rglob("metrics.json"))


def test_sweep_values_are_checked_before_any_job_trains(tmp_path, mnist_root):
    code, err = run_cli(tmp_path, "-m", "optimizer.lr=0.01,-1", f"data.root={mnist_root}", "data.val_size=20")
    assert code == 2 and "job 1" in err and "optimizer.lr=-1" in err
    assert not list(tmp_path.rglob("metrics.json"))  # not even job 0 ran


def corrupt_copy(tmp_path, damage):
    root = make_mnist_root(tmp_path / "damaged")
    path = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    return root, path


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda data: b"\x00\x00\x09\x99" + data[4:], "magic number 2457, expected 2051"),
        (lambda data: data[:-100], "truncated or corrupt"),
    ],
)
def test_damaged_idx_files_are_named(tmp_path, damage, says):
    from lenet_lab.data.mnist import MNISTDataModule

    root, path = corrupt_copy(tmp_path, damage)
    with pytest.raises(DataError) as error:
        MNISTDataModule(root=str(root), download=False).prepare_data()
    assert str(path) in str(error.value) and says in str(error.value)


def test_official_sized_file_must_match_the_published_checksum(tmp_path):
    from lenet_lab.data.idx import check_idx

    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01" + (10_000).to_bytes(4, "big") + bytes(10_000))  # right shape, wrong labels
    with pytest.raises(DataError, match="not the published 27ae3e4e09519cfbb04c329615203637"):
        check_idx(path)


def job_config(compose_config, *overrides):
    return compose_config("data.batch_size=16", "optimizer=sgd", "optimizer.lr=0.05", *overrides)


def val_acc_epochs(job_dir) -> list[int]:
    steps = []
    for event_file in job_dir.glob("events.out.tfevents.*"):
        events = EventAccumulator(str(event_file), size_guidance={"scalars": 0})
        events.Reload()
        if "val/acc" in events.Tags()["scalars"]:
            steps += [e.step for e in events.Scalars("val/acc")]
    return sorted(steps)


def test_nan_loss_stops_the_job_as_diverged_keeping_its_curves(compose_config, tmp_path):
    # Epoch 1 trains normally; epoch 2's rate sends the loss to inf, then NaN.
    cfg = job_config(compose_config, "epochs=5", "lr_scheduler=piecewise", "lr_scheduler.values=[[1,0.05],[2,1e8]]")
    metrics = train(cfg, tmp_path)
    assert metrics["status"] == "diverged"
    assert "became nan" in metrics["error"] or "became inf" in metrics["error"]
    assert metrics["epochs"] == 1
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "diverged"
    assert len(val_acc_epochs(tmp_path)) == 1  # epoch 1's curve is kept


def test_interrupted_job_resumes_to_the_same_epochs(compose_config, tmp_path, monkeypatch):
    cfg = job_config(compose_config, "epochs=4")
    train_interrupted_in_epoch_3(cfg, tmp_path, monkeypatch)
    interrupted = json.loads((tmp_path / "metrics.json").read_text())
    assert interrupted["status"] == "interrupted" and interrupted["epochs"] == 2
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()

    resumed = train(cfg, tmp_path)
    assert resumed["status"] == "completed" and resumed["epochs"] == 4
    steps = val_acc_epochs(tmp_path)
    assert len(steps) == 4 and len(set(steps)) == 4  # epochs 1-4, none twice, none missing
    assert resumed["train/acc"] > 0 and resumed["test/acc"] > 0


def test_a_killed_job_resumes_counting_its_training_time_from_its_checkpoint(compose_config, tmp_path, monkeypatch):
    # Epochs 1-2 are made slow; the run is then killed with no result written (SIGKILL, a launcher's
    # pool torn down): metrics.json is gone, the checkpoint of epoch 2 remains.
    cfg = job_config(compose_config, "epochs=3")
    original_step = Classifier.training_step

    def slow_step(self, batch, batch_idx):
        if batch_idx == 0:
            time.sleep(1.0)
        return original_step(self, batch, batch_idx)

    monkeypatch.setattr(Classifier, "training_step", slow_step)
    train_interrupted_in_epoch_3(cfg, tmp_path, monkeypatch)
    monkeypatch.undo()
    (tmp_path / "metrics.json").unlink()
    saved = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    counted = saved["callbacks"]["TrainingClock"]["train_time_s"]
    assert counted >= 2.0  # the two slow epochs

    resumed = train(cfg, tmp_path)  # epoch 3 alone, fast
    assert resumed["status"] == "completed" and resumed["epochs"] == 3
    assert counted < resumed["train_time_s"] < counted + 30


def test_a_job_resumed_with_its_max_time_spent_keeps_the_epochs_it_trained(compose_config, tmp_path, monkeypatch):
    # max_time stops training within an epoch; the job is then interrupted while testing (as a SLURM
    # time limit can). Rerun, it resumes with no time left and trains nothing: its epoch count must
    # still be the epochs its curves hold, the one max_time cut short included.
    cfg = job_config(compose_config, "epochs=1000", "data.batch_size=1", "++trainer.max_time=00:00:00:02")

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(Classifier, "test_step", interrupt)
    sigint = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit):
        train(cfg, tmp_path)
    signal.signal(signal.SIGINT, sigint)
    monkeypatch.undo()
    interrupted = json.loads((tmp_path / "metrics.json").read_text())
    assert interrupted["status"] == "interrupted" and interrupted["epochs"] >= 1

    resumed = train(cfg, tmp_path)
    assert resumed["status"] == "completed" and resumed["epochs"] == interrupted["epochs"]
    assert len(val_acc_epochs(tmp_path)) == resumed["epochs"]  # each epoch validated once, none retrained
    assert resumed["train_time_s"] >= 2


def test_completed_job_is_skipped_not_retrained(compose_config, tmp_path):
    cfg = job_config(compose_config, "epochs=1")
    first = train(cfg, tmp_path)
    stamp = (tmp_path / "metrics.json").stat().st_mtime_ns
    again = train(cfg, tmp_path)
    assert again == first
    assert (tmp_path / "metrics.json").stat().st_mtime_ns == stamp
