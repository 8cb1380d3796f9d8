"""logger=mlflow: a sweep logged into a real SQLite tracking store, read back with MLflow's own client."""

import sys

import pandas as pd
import pytest

import run

mlflow = pytest.importorskip("mlflow", reason='needs the [mlflow] extra: pip install -e ".[mlflow]"')


def test_a_sweep_is_one_experiment_with_one_run_per_job_equal_to_results_csv(monkeypatch, tmp_path, mnist_root):
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # the default store is outputs/mlflow.db where run.py runs
    args = ["-m", "optimizer=adam,sgd", "epochs=2", "threads=1", "logger=[tensorboard,mlflow]", "tags=[smoke]"]
    monkeypatch.setattr(sys, "argv", ["run.py", *args, f"data.root={mnist_root}", "data.val_size=20", "hydra.sweep.dir=sweep"])
    run.cli()
    database = tmp_path / "outputs" / "mlflow.db"
    assert database.is_file()
    client = MlflowClient(f"sqlite:///{database}")
    experiment = client.get_experiment_by_name("sweep")  # named by the sweep folder
    runs = client.search_runs([experiment.experiment_id])
    results = pd.read_csv(tmp_path / "sweep" / "results.csv").set_index("job")
    assert sorted(r.info.run_name for r in runs) == sorted(results.index)
    assert (results["tags"] == "['smoke']").all()  # tags reach the results table...
    for job in (tmp_path / "sweep").glob("[0-9]*"):  # ...and TensorBoard's HParams (its config beside the metrics)
        assert any(b"['smoke']" in f.read_bytes() for f in job.glob("events.out.tfevents.*"))
    for mlflow_run in runs:
        row = results.loc[mlflow_run.info.run_name]
        assert mlflow_run.info.status == "FINISHED" and mlflow_run.data.tags["status"] == row.status == "completed"
        assert mlflow_run.data.tags["tag.smoke"] == "true"
        assert mlflow_run.data.params["optimizer"] == row.optimizer and mlflow_run.data.params["model"] == "lenet"
        for name in ("test/acc", "val/acc", "train/acc", "test/loss", "train_time_s", "num_params"):
            assert mlflow_run.data.metrics[name] == row[name], name
        assert [m.step for m in client.get_metric_history(mlflow_run.info.run_id, "val/acc")] == sorted({m.step for m in client.get_metric_history(mlflow_run.info.run_id, "val/acc")})
        assert len(client.get_metric_history(mlflow_run.info.run_id, "val/acc")) == 2  # one point per epoch
        artifacts = {a.path for a in client.list_artifacts(mlflow_run.info.run_id)}
        assert {"metrics.json", "evaluation"} <= artifacts
        assert "evaluation/confusion_matrix.png" in {a.path for a in client.list_artifacts(mlflow_run.info.run_id, "evaluation")}
