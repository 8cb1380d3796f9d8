"""The logger group: TensorBoard, CSV, several at once; the tables read whichever log a job has."""

import sys

import pandas as pd
import pytest

import run
from lenet_lab.job_folder import csv_metric_files, event_files

SAME_IN_BOTH = ["status", "epochs_completed", "train/acc", "val/acc", "test/acc", "best_val/acc", "best_val/epoch", "num_params"]


def sweep(monkeypatch, tmp_path, capsys, mnist_root, name, *args):
    """`python run.py -m ARGS` in this process, into tmp_path/name; returns the sweep folder."""
    out = tmp_path / name
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["run.py", "-m", "optimizer=adam,sgd", "epochs=2", "threads=1", f"data.root={mnist_root}", "data.val_size=20", f"hydra.sweep.dir={out}", *args])
    run.cli()
    capsys.readouterr()
    return out


@pytest.fixture(scope="module")
def two_sweeps(tmp_path_factory, mnist_root):
    with pytest.MonkeyPatch.context() as monkeypatch:
        capsys = type("NoCapture", (), {"readouterr": staticmethod(lambda: None)})
        tmp = tmp_path_factory.mktemp("loggers")
        return {logger: sweep(monkeypatch, tmp, capsys, mnist_root, logger, f"logger={logger}", "tags=[smoke]") for logger in ("tensorboard", "csv")}


def test_csv_only_sweep_aggregates_into_the_same_tables_as_tensorboard(two_sweeps):
    tb, csv = two_sweeps["tensorboard"], two_sweeps["csv"]
    assert all(not event_files(job) and csv_metric_files(job) for job in csv.glob("[0-9]*"))
    assert all(event_files(job) and not csv_metric_files(job) for job in tb.glob("[0-9]*"))
    results = {name: pd.read_csv(folder / "results.csv") for name, folder in two_sweeps.items()}
    assert list(results["csv"].job) == list(results["tensorboard"].job)  # `logger` is not a parameter: same folder names
    pd.testing.assert_frame_equal(results["csv"][["job", "optimizer", *SAME_IN_BOTH]], results["tensorboard"][["job", "optimizer", *SAME_IN_BOTH]])
    assert (results["csv"].status == "completed").all() and results["csv"]["best_val/acc"].notna().all()
    curves = {name: pd.read_csv(folder / "curves.csv")[["job", "tag", "step", "epoch", "value"]] for name, folder in two_sweeps.items()}
    pd.testing.assert_frame_equal(curves["csv"], curves["tensorboard"])
    comparison = {name: pd.read_csv(folder / "comparison.csv") for name, folder in two_sweeps.items()}
    keep = [c for c in comparison["csv"].columns if not c.startswith("train_time_s")]
    pd.testing.assert_frame_equal(comparison["csv"][keep], comparison["tensorboard"][keep])
    assert (csv / "curves.png").is_file()


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
