"""The on-disk contract of a job: one module writes and reads it."""

import json
import os

import pytest
import yaml

from lenet_lab import job_folder
from lenet_lab.errors import UserError


def test_metrics_are_written_atomically_and_readable_by_anyone(tmp_path):
    path = job_folder.write_metrics(tmp_path / "job", {"status": "diverged", "train/loss": float("nan"), "epochs": 2})
    assert json.loads(path.read_text()) == {"status": "diverged", "train/loss": None, "epochs": 2}
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert [p.name for p in (tmp_path / "job").iterdir()] == ["metrics.json"]  # no temporary file left
    assert job_folder.read_metrics(tmp_path / "job")["status"] == "diverged"
    assert job_folder.read_metrics(tmp_path / "missing") is None


def test_hydra_records_and_settings(tmp_path):
    job = tmp_path / "3_model=mlp"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["model=mlp"]))
    (job / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"optimizer": {"lr": 0.01}, "data": {"root": "data"}}))
    hydra = {"hydra": {"runtime": {"choices": {"model": "mlp", "optimizer": "adam"}, "cwd": "/somewhere"}}}
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    assert job_folder.is_job_dir(job) and job_folder.job_number(job) == 3
    assert job_folder.recorded_overrides(job) == ["model=mlp"]
    assert job_folder.setting(job, "optimizer") == "adam" and job_folder.setting(job, "optimizer.lr") == 0.01
    assert job_folder.setting(job, "optimizer.betas") is None and job_folder.setting(job, "data") is None
    assert job_folder.runtime_cwd(job) == "/somewhere"
    assert job_folder.find_job_dirs([tmp_path]) == [job.resolve()]


def test_a_checkpoint_leads_back_to_its_job(tmp_path):
    assert job_folder.job_dir_of_checkpoint(job_folder.checkpoint(tmp_path / "job")) == tmp_path / "job"
    assert job_folder.job_dir_of_checkpoint(tmp_path / "elsewhere" / "model.ckpt") == tmp_path / "elsewhere"


def test_extra_files_leave_out_what_every_job_has(tmp_path):
    job = tmp_path / "job"
    for name in ("metrics.json", "run.log", "events.out.tfevents.1", "checkpoints/last.ckpt", "evaluation/confusion_matrix.png", ".hydra/config.yaml"):
        (job / name).parent.mkdir(parents=True, exist_ok=True)
        (job / name).write_text("x")
    assert job_folder.extra_files(job) == ["evaluation/confusion_matrix.png"]


def test_an_ending_without_a_result_keeps_earlier_numbers_and_never_replaces_a_result_or_a_damaged_file(tmp_path):
    job_folder.write_metrics(tmp_path, {"status": "interrupted", "epochs": 3, "train_time_s": 12.5})
    job_folder.record_failed(tmp_path, ValueError("bad"))
    assert job_folder.read_metrics(tmp_path) == {"status": "failed", "epochs": 3, "train_time_s": 12.5, "error": "ValueError: bad"}
    job_folder.record_failed(tmp_path, UserError("threads=0 must be a positive number"))  # a user's error: its message alone
    assert job_folder.read_metrics(tmp_path)["error"] == "threads=0 must be a positive number"
    for result in ("completed", "diverged", "pruned"):
        job_folder.write_metrics(tmp_path, {"status": result, "val/acc": 0.9})
        assert job_folder.record_ending(tmp_path, "failed", "SLURM ended the job: CANCELLED") == {"status": result, "val/acc": 0.9}
        assert job_folder.read_metrics(tmp_path) == {"status": result, "val/acc": 0.9}
    (tmp_path / job_folder.METRICS_FILE).write_text('{"status": "comp')
    job_folder.record_interrupted(tmp_path, "SIGTERM")
    assert (tmp_path / job_folder.METRICS_FILE).read_text() == '{"status": "comp'  # left for the user to look at


def test_a_job_that_fails_before_training_is_recorded_once_by_train(compose_config, tmp_path):
    from lenet_lab.training.train import train

    cfg = compose_config("threads=0")  # threads are set first, before the schema checks the config
    with pytest.raises(UserError, match="threads=0"):
        train(cfg, tmp_path)
    assert job_folder.read_metrics(tmp_path)["status"] == "failed" and "threads=0" in job_folder.read_metrics(tmp_path)["error"]
