"""Damaged or unwritable files: checkpoints written atomically; a damaged checkpoint or metrics.json
on a rerun, or an output folder that can't be written, is one line on stderr and exit code 2."""

import json

import pytest
import torch

from lenet_lab.training import atomic_checkpoint
from lenet_lab.training.train import train
from tests.test_stopping import run_cli

ARGS = ("model=mlp", "epochs=1", "data.val_size=20")


def test_a_kill_while_a_checkpoint_is_saved_leaves_the_one_before_whole(compose_config, tmp_path, monkeypatch):
    train(compose_config(*ARGS), tmp_path)
    saved = (tmp_path / "checkpoints" / "last.ckpt").read_bytes()

    def killed_while_writing(obj, f):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt  # what a signal does in the middle of torch.save

    monkeypatch.setattr(atomic_checkpoint.torch, "save", killed_while_writing)
    with pytest.raises(KeyboardInterrupt):
        atomic_checkpoint.AtomicCheckpointIO().save_checkpoint({"epoch": 2}, tmp_path / "checkpoints" / "last.ckpt")
    assert (tmp_path / "checkpoints" / "last.ckpt").read_bytes() == saved
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["last.ckpt"]  # no temporary file left


def test_training_writes_its_checkpoints_through_the_atomic_writer(compose_config, tmp_path, monkeypatch):
    written = []
    original = atomic_checkpoint.write_atomically
    monkeypatch.setattr(atomic_checkpoint, "write_atomically", lambda path, *a, **k: written.append(path) or original(path, *a, **k))
    train(compose_config("model=mlp", "epochs=2", "data.val_size=20", "callbacks=checkpoint_best"), tmp_path)
    assert {p.rsplit("/", 1)[-1] for p in written} == {"last.ckpt", "best.ckpt"} and len(written) >= 3
    torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)


def damaged_job(job, checkpoint: bytes | None = None, metrics: str | None = None):
    """A job folder as an interrupted run leaves it, with the given bytes in its checkpoint or metrics.json."""
    (job / "checkpoints").mkdir(parents=True)
    (job / "metrics.json").write_text(metrics if metrics is not None else json.dumps({"status": "interrupted", "epochs": 1, "train_time_s": 3.0}))
    (job / "checkpoints" / "last.ckpt").write_bytes(checkpoint if checkpoint is not None else b"")
    return {path: path.read_bytes() for path in job.rglob("*") if path.is_file()}


def unchanged(job, before) -> bool:
    return {path: path.read_bytes() for path in job.rglob("*") if path.is_file() and ".hydra" not in path.parts and path.name != "run.log"} == {
        path: data for path, data in before.items()
    }


@pytest.mark.parametrize(
    "damage, named, says",
    [
        ({"checkpoint": b"not a checkpoint"}, "checkpoints/last.ckpt", "remove this job's folder"),
        ({"checkpoint": b"PK\x03\x04" + bytes(100)}, "checkpoints/last.ckpt", "remove this job's folder"),  # a zip cut short
        ({"metrics": '{"status": "interrupted", "epo'}, "metrics.json", "delete it"),
    ],
)
def test_a_damaged_file_of_a_rerun_is_named_and_left_alone(monkeypatch, tmp_path, mnist_root, damage, named, says):
    job = tmp_path / "job"
    before = damaged_job(job, **damage)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(tmp_path, [*ARGS, f"data.root={mnist_root}", f"hydra.run.dir={job}"])
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert f"{job / named} is damaged" in err and says in err and "nothing was changed" in err
    assert unchanged(job, before)  # Hydra's own records of the run aside
    assert not list(job.glob("events.out.tfevents.*"))


def test_a_sweep_names_a_damaged_job_before_any_job_runs(monkeypatch, tmp_path, mnist_root):
    sweep = tmp_path / "sweep"
    job = sweep / "1_data.val_size=20,epochs=1,model=mlp,seed=2"
    before = damaged_job(job, checkpoint=b"garbage")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(tmp_path, ["-m", *ARGS, "seed=1,2", f"data.root={mnist_root}", f"hydra.sweep.dir={sweep}"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"{job}/checkpoints/last.ckpt is damaged" in err, err
    assert unchanged(job, before)
    assert [p.name for p in sweep.iterdir()] == [job.name]  # job 0 did not run


@pytest.mark.parametrize("mode", ["run", "sweep"])
def test_an_output_folder_that_cannot_be_written_is_one_line(monkeypatch, tmp_path, mnist_root, mode):
    folder = "/proc/lenet_lab_cannot_be_here"
    args = [*ARGS, f"data.root={mnist_root}", f"hydra.run.dir={folder}"] if mode == "run" else ["-m", *ARGS, f"data.root={mnist_root}", f"hydra.sweep.dir={folder}"]
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(tmp_path, args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: cannot write the output folder") and folder in err, err
