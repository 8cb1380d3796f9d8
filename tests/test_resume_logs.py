"""A job interrupted and resumed keeps one history in every log: the CSV logger's versions, one MLflow run."""

import importlib.util

import pytest

from lenet_lab.job_folder import BEST_CHECKPOINT, csv_metric_files, read_metrics
from lenet_lab.reports.events import read_curves
from lenet_lab.training.train import train
from tests.interruption import train_interrupted_in_epoch_3

HAS_MLFLOW = importlib.util.find_spec("mlflow") is not None

@pytest.mark.parametrize("loggers", ["[csv]", pytest.param("[csv,mlflow]", marks=pytest.mark.skipif(not HAS_MLFLOW, reason="needs the [mlflow] extra"))])
def test_interrupted_job_resumes_into_the_same_logs(compose_config, tmp_path, monkeypatch, loggers):
    job = tmp_path / "job"
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    store_override = [f"logger.mlflow.tracking_uri={store}"] if "mlflow" in loggers else []
    cfg = compose_config("model=mlp", "threads=1", "epochs=4", f"logger={loggers}", *store_override, "callbacks=[checkpoint_best]")
    train_interrupted_in_epoch_3(cfg, job, monkeypatch)
    assert read_metrics(job)["status"] == "interrupted"
    assert train(cfg, job)["status"] == "completed"

    assert len(csv_metric_files(job)) == 2  # one version per attempt; the first one's epochs kept
    curves, problems = read_curves(job)
    assert not problems and sorted(curves[curves.tag == "val/acc"].epoch) == [1, 2, 3, 4]
    assert (job / BEST_CHECKPOINT).is_file()
    if "mlflow" in loggers:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(store)
        (run,) = client.search_runs([client.get_experiment_by_name("runs").experiment_id])  # the same run, resumed
        assert run.data.tags["status"] == "completed" and run.info.status == "FINISHED"
        assert sorted(m.step for m in client.get_metric_history(run.info.run_id, "val/acc")) == sorted(curves[curves.tag == "val/acc"].step)
