"""Parallel jobs into one fresh MLflow store lose no run and no metric.

Two jobs that open a fresh SQLite store at once both create its tables, and one fails ("Online
migration expected to match one row ..."; measured without the fix: 2-3 of 4 joblib workers failed
in each of 4 tries). The sweep's start creates the store and the experiment once, before any job
(hydra_plugins/lenet_lab/sweep_start.py -> training/mlflow_run.py:create_store).
"""

import sys

import pytest
from omegaconf import OmegaConf

import run
from tests.conftest import PROJECT
from tests.sweep_start import start_sweep

pytest.importorskip("mlflow", reason='needs the [mlflow] extra: pip install -e ".[mlflow]"')
joblib = pytest.importorskip("joblib", reason="needs the parallel extra: pip install -e '.[parallel]'")

EPOCHS = 3


def logger_config(uri: str):
    node = OmegaConf.load(PROJECT / "conf" / "logger" / "mlflow.yaml")
    node.mlflow.tracking_uri = uri
    return OmegaConf.create({"logger": node, "tags": []})


def one_job(uri: str, job_dir) -> str | None:
    """What a job does with MLflow (training/loggers.py), in a joblib worker; the error, or None."""
    from lenet_lab.job_folder import write_metrics
    from lenet_lab.training import loggers

    try:
        job_dir.mkdir()
        built = loggers.build_loggers(logger_config(uri), job_dir)
        loggers.start(built, job_dir)
        for epoch in range(EPOCHS):
            built[0].log_metrics({"val/acc": epoch / 10, "train/loss": 1 / (epoch + 1)}, step=epoch)
        write_metrics(job_dir, {"status": "completed", "epochs": EPOCHS})
        loggers.publish(built, job_dir, {}, {"status": "completed", "epochs": EPOCHS}, [])
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


@pytest.mark.slow  # four loky workers, an interpreter each
def test_four_parallel_jobs_into_a_fresh_sqlite_store_lose_no_run_and_no_metric(tmp_path):
    # Three fresh stores in a row, in one test: the four workers start once (importing Lightning and
    # MLflow costs each several seconds), and the race has three chances to show.
    for attempt in range(3):
        parallel_jobs_into_a_fresh_store(tmp_path / f"attempt_{attempt}")


def parallel_jobs_into_a_fresh_store(folder):
    from mlflow.tracking import MlflowClient

    from lenet_lab.training import mlflow_run

    folder.mkdir()
    uri = f"sqlite:///{folder / 'outputs' / 'mlflow.db'}"
    store = mlflow_run.store(logger_config(uri), logger_config(uri).logger.mlflow, None)  # a job outside a sweep: experiment "runs"
    mlflow_run.create_store(*store)  # what the sweep's start does, once
    errors = joblib.Parallel(n_jobs=4, backend="loky")(joblib.delayed(one_job)(uri, folder / f"{n}_seed={n}") for n in range(4))
    assert errors == [None] * 4
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name(store[1]).experiment_id])
    assert sorted(one.info.run_name for one in runs) == [f"{n}_seed={n}" for n in range(4)]
    for one in runs:
        assert one.info.status == "FINISHED" and one.data.tags["status"] == "completed" and one.data.metrics["epochs"] == EPOCHS
        for metric in ("val/acc", "train/loss"):
            assert [m.step for m in client.get_metric_history(one.info.run_id, metric)] == list(range(EPOCHS)), metric
        assert [a.path for a in client.list_artifacts(one.info.run_id)] == ["metrics.json"]


def test_a_sweeps_start_creates_its_store_and_experiment_before_the_first_job(monkeypatch, mnist_root, tmp_path):
    from mlflow.tracking import MlflowClient

    database = tmp_path / "store" / "mlflow.db"
    monkeypatch.chdir(tmp_path)
    jobs = start_sweep(monkeypatch, "seed=1,2,3,4", "logger=mlflow", f"logger.mlflow.tracking_uri=sqlite:///{database}", f"data.root={mnist_root}", "hydra.sweep.dir=sweep")
    assert len(jobs) == 4
    experiment = MlflowClient(f"sqlite:///{database}").get_experiment_by_name("sweep")  # named by the sweep folder, as its jobs name it
    assert experiment is not None and experiment.artifact_location == (tmp_path / "store" / "mlartifacts").as_uri()


def test_a_store_that_cannot_be_opened_is_one_line_before_any_job(monkeypatch, mnist_root, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    uri = f"sqlite:///{tmp_path / 'a_file' / 'mlflow.db'}"  # its folder can't be made
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["run.py", "-m", "seed=1,2", "logger=mlflow", f"logger.mlflow.tracking_uri={uri}", f"data.root={mnist_root}", "hydra.sweep.dir=sweep"])
    with pytest.raises(SystemExit) as exit:
        run.cli()
    err = capsys.readouterr().err.strip().splitlines()
    assert exit.value.code == 2 and len(err) == 1 and f"logger.mlflow: the tracking store {uri} can't be opened" in err[0], err
    assert not list(tmp_path.rglob("metrics.json"))
