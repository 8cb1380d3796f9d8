"""One job as one MLflow run: which experiment and run it logs to, its params, status tag and artifacts.

Lightning's MLFlowLogger logs the epochs' metrics; this adds what makes a tracking store useful
for a sweep: one experiment per sweep, the job's choices and overrides as params, its final
status as a tag, metrics.json and evaluation/ as artifacts, and the same run again when a job resumes.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from lenet_lab import job_folder
from lenet_lab.config import overrides
from lenet_lab.errors import UserError, one_line

JOB_TAG = "lenet_lab.job_dir"  # finds a resumed job's run again
SQLITE = "sqlite:///"
TERMINAL = {"completed": "FINISHED", "diverged": "FINISHED", "interrupted": "KILLED"}  # anything else: FAILED


def experiment_name(cfg: DictConfig, sweep_dir: Path | None) -> str:
    """The sweep file's name, else the sweep folder (relative to where run.py runs), else "runs" (a single run)."""
    if (cfg.get("sweep") or {}).get("name"):
        return str(cfg.sweep.name)
    if sweep_dir is None:
        return "runs"
    sweep = sweep_dir.resolve()
    return str(sweep.relative_to(Path.cwd()) if sweep.is_relative_to(Path.cwd()) else sweep)


def job_sweep_dir() -> Path | None:
    """The running job's sweep folder as the sweep's start saw it (not its folder's parent: a folder
    name may hold a path), None for a single run."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    return Path(HydraConfig.get().sweep.dir) if multirun else None


def store(cfg: DictConfig, node: DictConfig, sweep_dir: Path | None) -> tuple[str, str, str | None]:
    """(tracking URI, experiment name, artifact location) of one MLflow logger node of a job.
    A SQLite file's artifacts go to mlartifacts/ beside it (MLflow's default is ./mlruns where run.py runs)."""
    uri = str(node.tracking_uri)
    location = node.get("artifact_location") or None
    if uri.startswith(SQLITE) and not location:
        location = (Path(uri.removeprefix(SQLITE)).parent.resolve() / "mlartifacts").as_uri()
    return uri, node.get("experiment_name") or experiment_name(cfg, sweep_dir), location


def stores(cfg: DictConfig, sweep_dir: Path | None) -> list[tuple[str, str, str | None]]:
    """store() of each MLflow logger of a job's config."""
    return [store(cfg, node, sweep_dir) for node in (cfg.get("logger") or {}).values() if node and is_mlflow(node)]


def is_mlflow(node: DictConfig) -> bool:
    return str(node.get("_target_", "")).endswith("MLFlowLogger")


def client(uri: str):
    """MLflow's client of `uri`, with the folder of a SQLite file made (SQLite creates the file, not its folder)."""
    try:
        from mlflow.tracking import MlflowClient
    except ModuleNotFoundError as error:
        raise UserError('logger=mlflow needs MLflow: pip install -e ".[mlflow]"') from error
    if uri.startswith(SQLITE):
        Path(uri.removeprefix(SQLITE)).parent.mkdir(parents=True, exist_ok=True)
    return MlflowClient(uri)


def create_store(uri: str, experiment: str, artifact_location: str | None) -> None:
    """The store's tables and the sweep's experiment, made once before a sweep's jobs start.

    A job that opens a fresh SQLite store creates its tables, and one that finds no experiment
    creates it: two parallel jobs doing either at once break the store or fail (measured: 1-2 of 4
    joblib jobs, "Online migration expected to match one row"). After this, jobs only read both.
    """
    from mlflow.exceptions import MlflowException

    try:
        mlflow = client(uri)
        if mlflow.get_experiment_by_name(experiment) is None:
            mlflow.create_experiment(experiment, artifact_location=artifact_location)
    except (MlflowException, OSError) as error:
        raise UserError(f"logger.mlflow: the tracking store {uri} can't be opened: {one_line(error)}") from error


def logger_kwargs(cfg: DictConfig, node: DictConfig, job_dir: Path, tags: list[str]) -> dict:
    """Keyword arguments for MLFlowLogger beyond the config's: names, the SQLite file's folder, a resumed run."""
    uri, experiment, location = store(cfg, node, job_sweep_dir())
    mlflow = client(uri)
    kwargs = {
        "experiment_name": experiment,
        "run_name": node.get("run_name") or job_dir.name,
        "tags": {JOB_TAG: str(job_dir.resolve()), "status": "running", **{f"tag.{tag}": "true" for tag in tags}},
    }
    if location:
        kwargs["artifact_location"] = location
    if job_folder.checkpoint(job_dir).is_file():  # resuming: log into the run the job started
        found = mlflow.get_experiment_by_name(experiment)
        path = str(job_dir.resolve()).replace("'", "\\'")
        runs = mlflow.search_runs([found.experiment_id], f"tags.`{JOB_TAG}` = '{path}'", max_results=1) if found else []
        if runs:
            kwargs["run_id"] = runs[0].info.run_id
    return kwargs


def params(job_dir: Path) -> dict:
    """The job's config-group choices (model=lenet, ...) and its overrides, as Hydra recorded them."""
    choices = {group: choice for group, choice in job_folder.runtime_choices(job_dir).items() if not group.startswith("hydra") and choice is not None}
    return {**choices, **overrides.parameters(job_folder.recorded_overrides(job_dir))}


def start(logger, job_dir: Path) -> None:
    logger.log_hyperparams(params(job_dir))


def finish(logger, job_dir: Path, metrics: dict) -> None:
    """The final status as a tag, the numbers only metrics.json has, and the job's files as artifacts."""
    client, run_id = logger.experiment, logger.run_id
    client.set_tag(run_id, "status", metrics["status"])
    for name in ("epochs", "num_params", "train_time_s"):
        if isinstance(metrics.get(name), (int, float)):
            client.log_metric(run_id, name, float(metrics[name]))
    if (job_dir / job_folder.METRICS_FILE).is_file():
        client.log_artifact(run_id, str(job_dir / job_folder.METRICS_FILE))
    if job_folder.evaluation_dir(job_dir).is_dir():
        client.log_artifacts(run_id, str(job_folder.evaluation_dir(job_dir)), job_folder.EVALUATION_DIR)
    client.set_terminated(run_id, TERMINAL.get(metrics["status"], "FAILED"))
