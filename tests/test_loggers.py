"""The logger group: TensorBoard, CSV, several at once; the tables read whichever log a job has."""

import shutil
import sys

import pandas as pd
import pytest

import run
from lenet_lab.aggregate import aggregate
from lenet_lab.job_folder import csv_metric_files, event_files

SAME_IN_BOTH = ["status", "epochs_completed", "train/acc", "val/acc", "test/acc", "best_val/acc", "best_val/epoch", "num_params"]


@pytest.fixture(scope="module")
def two_sweeps(small_sweep, tmp_path_factory):
    """conftest's small_sweep (every job logged to TensorBoard and to CSV, tagged smoke) copied twice, one
    copy keeping only the jobs' TensorBoard event files, the other only their CSV logs, each aggregated
    again as `python -m lenet_lab.aggregate FOLDER` does."""
    folders = {}
    for logger, other_logs in (("tensorboard", csv_metric_files), ("csv", event_files)):
        folder = shutil.copytree(small_sweep.dir, tmp_path_factory.mktemp(logger) / "sweep")
        for job in folder.glob("[0-9]*"):
            for log in other_logs(job):
                log.unlink()
        aggregate([folder], formats=("csv",))
        folders[logger] = folder
    return folders


def test_csv_only_sweep_aggregates_into_the_same_tables_as_tensorboard(two_sweeps):
    tb, csv = two_sweeps["tensorboard"], two_sweeps["csv"]
    assert all(not event_files(job) and csv_metric_files(job) for job in csv.glob("[0-9]*"))
    assert all(event_files(job) and not csv_metric_files(job) for job in tb.glob("[0-9]*"))
    results = {name: pd.read_csv(folder / "results.csv") for name, folder in two_sweeps.items()}
    pd.testing.assert_frame_equal(results["csv"][["job", "model", "optimizer", *SAME_IN_BOTH]], results["tensorboard"][["job", "model", "optimizer", *SAME_IN_BOTH]])
    assert (results["csv"].status == "completed").all() and results["csv"]["best_val/acc"].notna().all()
    curves = {name: pd.read_csv(folder / "curves.csv")[["job", "tag", "step", "epoch", "value"]] for name, folder in two_sweeps.items()}
    pd.testing.assert_frame_equal(curves["csv"], curves["tensorboard"])
    comparison = {name: pd.read_csv(folder / "comparison.csv") for name, folder in two_sweeps.items()}
    keep = [c for c in comparison["csv"].columns if not c.startswith("train_time_s")]
    pd.testing.assert_frame_equal(comparison["csv"][keep], comparison["tensorboard"][keep])
    assert (csv / "curves.png").is_file()


@pytest.mark.parametrize("logger, kept, left_out", [("csv", csv_metric_files, event_files), ("tensorboard", event_files, csv_metric_files)])
def test_one_logger_writes_its_own_log_and_no_other(compose_config, tmp_path, logger, kept, left_out):
    from lenet_lab.training.train import train

    train(compose_config(f"logger={logger}", "model=mlp", "epochs=1", "threads=1"), tmp_path)
    assert kept(tmp_path) and not left_out(tmp_path)  # the evaluation's figures, too, go to TensorBoard only with it


def test_tags_reach_the_results_table_and_every_logger_that_keeps_the_config(two_sweeps):
    for folder in two_sweeps.values():
        assert (pd.read_csv(folder / "results.csv")["tags"] == "['smoke']").all()
    for job in two_sweeps["tensorboard"].glob("[0-9]*"):  # TensorBoard's HParams: the config beside the metrics
        assert any(b"['smoke']" in f.read_bytes() for f in event_files(job))
    for job in two_sweeps["csv"].glob("[0-9]*"):  # the CSV logger's hparams.yaml
        assert "smoke" in (csv_metric_files(job)[0].parent / "hparams.yaml").read_text()


def test_several_loggers_at_once_each_get_the_curves(compose_config, tmp_path):
    from lenet_lab.reports.csv_log import read_csv_scalars
    from lenet_lab.reports.events import read_scalars
    from lenet_lab.training.train import train

    cfg = compose_config("logger=[tensorboard,csv]", "epochs=2", "threads=1")
    train(cfg, tmp_path)
    tags = lambda rows: {row[0] for row in rows}  # noqa: E731
    (csv_file,) = csv_metric_files(tmp_path)
    assert {"train/loss", "val/acc", "test/acc"} <= tags(read_csv_scalars(csv_file)[0]) == {tag for f in event_files(tmp_path) for tag in tags(read_scalars(f)[0])}
    assert "optimizer.lr" in (csv_file.parent / "hparams.yaml").read_text()  # the config, as the CSV logger keeps hparams


def test_mlflow_without_mlflow_is_one_line_before_anything_runs(monkeypatch, tmp_path, capsys, mnist_root):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["run.py", "-m", "logger=[tensorboard,mlflow]", "optimizer=adam,sgd", f"data.root={mnist_root}", "hydra.sweep.dir=sweep"])
    with pytest.raises(SystemExit) as exit_info:
        run.cli()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.strip().endswith('logger=\'mlflow\' needs MLflow: pip install -e ".[mlflow]"'), err
    assert not list(tmp_path.rglob("metrics.json"))
