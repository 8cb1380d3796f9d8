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
from lenet_lab.errors import UserError

JOB_TAG = "lenet_lab.job_dir"  # finds a resumed job's run again
SQLITE = "sqlite:///"
TERMINAL = {"completed": "FINISHED", "diverged": "FINISHED", "interrupted": "KILLED"}  # anything else: FAILED


def experiment_name(cfg: DictConfig, job_dir: Path) -> str:
    """The sweep file's name, else the sweep folder (a multirun job's folder is <sweep>/<num>_...), else "runs"."""
    if (cfg.get("sweep") or {}).get("name"):
        return str(cfg.sweep.name)
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        sweep = job_dir.resolve().parent
        return str(sweep.relative_to(Path.cwd()) if sweep.is_relative_to(Path.cwd()) else sweep)
    return "runs"


def logger_kwargs(cfg: DictConfig, node: DictConfig, job_dir: Path, tags: list[str]) -> dict:
    """Keyword arguments for MLFlowLogger beyond the config's: names, the SQLite file's folder, a resumed run."""
    try:
        from mlflow.tracking import MlflowClient
    except ModuleNotFoundError as error:
        raise UserError('logger=mlflow needs MLflow: pip install -e ".[mlflow]"') from error
    uri = str(node.tracking_uri)
    kwargs = {
        "experiment_name": node.get("experiment_name") or experiment_name(cfg, job_dir),
        "run_name": node.get("run_name") or job_dir.name,
        "tags": {JOB_TAG: str(job_dir.resolve()), "status": "running", **{f"tag.{tag}": "true" for tag in tags}},
    }
    if uri.startswith(SQLITE):
        database = Path(uri.removeprefix(SQLITE))
        database.parent.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
        if not node.get("artifact_location"):
            kwargs["artifact_location"] = (database.parent.resolve() / "mlartifacts").as_uri()
    if job_folder.checkpoint(job_dir).is_file():  # resuming: log into the run the job started
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name(kwargs["experiment_name"])
        path = str(job_dir.resolve()).replace("'", "\\'")
        runs = client.search_runs([experiment.experiment_id], f"tags.`{JOB_TAG}` = '{path}'", max_results=1) if experiment else []
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
