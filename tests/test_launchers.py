"""Scaling out: threads and devices per job, and the same sweep under joblib and submitit (Optuna: test_search.py).

The launcher and sweeper tests run run.py as a user does, on tiny data; each skips (with the reason)
where its optional extra is not installed: pip install -e ".[parallel,search]".
"""

import csv
import json
import os
import re
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf, open_dict

from lenet_lab.config import launcher, placement
from lenet_lab.config.threads import TORCH_DEFAULT, auto_threads, threads_per_job
from lenet_lab.errors import UserError
from tests.conftest import PROJECT, project_on_path, run_here


def job_dirs(sweep: Path) -> list[Path]:
    return sorted((p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: int(p.name.split("_")[0]))


def metrics(job: Path) -> dict:
    return json.loads((job / "metrics.json").read_text())


def results(sweep: Path) -> list[dict]:
    with open(sweep / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


# --- threads per job ------------------------------------------------------------------------------


def hydra_node(launcher_cfg: dict | None = None, mode=RunMode.MULTIRUN, num: int = 0):
    return OmegaConf.create({"mode": mode, "job": {"num": num}, "launcher": launcher_cfg or {"_target_": "hydra._internal.core_plugins.basic_launcher.BasicLauncher"}})


JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
SUBMITIT_LOCAL = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"
SUBMITIT_SLURM = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"


@pytest.mark.parametrize(
    "launcher_cfg, mode, cores, expected",
    [
        ({"_target_": JOBLIB, "n_jobs": 2}, RunMode.MULTIRUN, 8, 4),
        ({"_target_": JOBLIB, "n_jobs": 3}, RunMode.MULTIRUN, 8, 2),  # 3 x 2 threads: never more than the cores
        ({"_target_": JOBLIB, "n_jobs": -1}, RunMode.MULTIRUN, 8, 1),  # joblib: -1 = one job per core
        ({"_target_": JOBLIB, "n_jobs": -5}, RunMode.MULTIRUN, 8, 2),  # -5 = all but four: 4 jobs
        ({"_target_": JOBLIB, "n_jobs": 16}, RunMode.MULTIRUN, 8, 1),  # more jobs than cores: one each
        ({"_target_": JOBLIB, "n_jobs": 1}, RunMode.MULTIRUN, 8, "default"),
        ({"_target_": SUBMITIT_LOCAL, "cpus_per_task": 3}, RunMode.MULTIRUN, 8, 3),
        ({"_target_": SUBMITIT_SLURM, "cpus_per_task": 6}, RunMode.MULTIRUN, 8, 6),
        ({"_target_": SUBMITIT_SLURM, "cpus_per_task": None}, RunMode.MULTIRUN, 8, "default"),  # SLURM's allocation
        (None, RunMode.MULTIRUN, 8, "default"),  # basic launcher: one job at a time
        (None, RunMode.RUN, 8, "default"),
    ],
)
def test_auto_threads_divide_the_cores_among_the_jobs_running_at_once(launcher_cfg, mode, cores, expected):
    got = auto_threads(hydra_node(launcher_cfg, mode), available=cores, default=7)
    assert got == (7 if expected == "default" else expected)


def test_auto_threads_without_hydra_is_torchs_default():
    assert auto_threads(None, available=8, default=5) == 5


def test_threads_setting_number_null_auto_and_bad_values():
    assert threads_per_job(OmegaConf.create({"threads": 3})) == 3
    assert threads_per_job(OmegaConf.create({"threads": None})) == TORCH_DEFAULT
    assert threads_per_job(OmegaConf.create({"threads": "auto"})) == TORCH_DEFAULT  # not under Hydra: a single run
    for bad in ("two", 0, 1.5, True):
        with pytest.raises(UserError, match="threads=.* must be auto, null or a whole number"):
            threads_per_job(OmegaConf.create({"threads": bad}))


def test_threads_auto_is_the_default_and_bad_values_fail_the_schema(compose_config):
    from lenet_lab.config.schema import validate

    assert compose_config().threads == "auto"
    validate(compose_config("threads=2"))
    with pytest.raises(UserError, match="threads"):
        validate(compose_config("threads=two"))


# --- devices and strategy per job -----------------------------------------------------------------


@pytest.fixture
def hydra_job(mnist_root):
    """hydra_job(*overrides, mode=..., num=...) -> the job's config, with Hydra's config set as a launcher sets it."""

    def _job(*overrides, mode=RunMode.MULTIRUN, num=0):
        with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
            cfg = compose("config", overrides=[f"data.root={mnist_root}", *overrides], return_hydra_config=True)
        with open_dict(cfg):
            cfg.hydra.mode = mode
            cfg.hydra.job.num = num
        HydraConfig.instance().set_config(cfg)
        return cfg

    yield _job
    HydraConfig.instance().cfg = None


def test_threads_auto_reads_the_launcher_of_the_running_job(hydra_job):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="needs the parallel extra")
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the parallel extra")
    assert threads_per_job(hydra_job("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")) == max(1, launcher.cores() // 2)
    assert threads_per_job(hydra_job("hydra/launcher=slurm", "hydra.launcher.cpus_per_task=3")) == 3
    assert threads_per_job(hydra_job("hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "threads=5")) == 5  # a number wins


@pytest.fixture
def four_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)


def test_parallel_gpu_jobs_get_one_gpu_each_by_job_number(hydra_job, four_gpus):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="needs the parallel extra")
    parallel = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=4", "trainer.accelerator=gpu")
    assert [hydra_job(*parallel, num=num).trainer.devices for num in range(6)] == [[0], [1], [2], [3], [0], [1]]
    assert hydra_job(*parallel, num=5).trainer.strategy == "auto"  # one device: nothing to start
    assert hydra_job(*parallel, "trainer.devices=[2]", num=0).trainer.devices == [2]  # the command line wins
    # One job at a time, a single run, CPU jobs: Lightning's own choice.
    assert hydra_job("trainer.accelerator=gpu", num=5).trainer.devices == "auto"
    assert hydra_job(*parallel, mode=RunMode.RUN).trainer.devices == "auto"
    assert hydra_job("hydra/launcher=joblib", "hydra.launcher.n_jobs=4", "trainer.accelerator=cpu", num=5).trainer.devices == "auto"


def test_submitit_local_jobs_share_out_the_gpus_they_see(hydra_job, four_gpus):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the parallel extra")
    assert hydra_job("hydra/launcher=submitit_local", "trainer.accelerator=auto", num=6).trainer.devices == [2]
    assert hydra_job("hydra/launcher=slurm", "trainer.accelerator=gpu", num=6).trainer.devices == "auto"  # its allocation


def test_a_multi_device_job_of_a_multirun_spawns_instead_of_rerunning_the_command(hydra_job, monkeypatch):
    monkeypatch.delenv("SLURM_NTASKS", raising=False)
    two_cpus = ("trainer.accelerator=cpu", "trainer.devices=2")
    assert hydra_job(*two_cpus).trainer.strategy == "ddp_spawn"
    assert hydra_job(*two_cpus, mode=RunMode.RUN).trainer.strategy == "auto"  # a single run may re-run its command
    assert hydra_job("trainer.accelerator=cpu", "trainer.devices=1").trainer.strategy == "auto"
    assert hydra_job(*two_cpus, "trainer.strategy=ddp").trainer.strategy == "ddp"  # the command line wins
    monkeypatch.setenv("SLURM_NTASKS", "2")  # SLURM started the processes: Lightning joins them
    assert hydra_job(*two_cpus).trainer.strategy == "auto"



@pytest.mark.slow  # two spawned ranks, each importing torch and Lightning
def test_a_job_trained_on_two_spawned_cpu_processes_records_its_epochs(mnist_root, tmp_path, monkeypatch):
    # Under ddp_spawn the training runs in child processes: what the job records must come back
    # from them (the main process's own Trainer never counts an epoch).
    monkeypatch.delenv("SLURM_NTASKS", raising=False)
    sweep = tmp_path / "sweep"
    result = run_here(
        "-m", "trainer.accelerator=cpu", "trainer.devices=2", "epochs=2", "data.val_size=20", "data.batch_size=16",
        f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.plots=false",
        cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = job_dirs(sweep)
    recorded = metrics(job)
    assert recorded["status"] == "completed" and recorded["epochs"] == 2
    assert 0 <= recorded["test/acc"] <= 1

@pytest.mark.parametrize(
    "devices, accelerator, expected",
    [(2, "cpu", 2), ("2", "cpu", 2), ([0, 3], "gpu", 2), ("0,1,2", "gpu", 3), ("auto", "cpu", 1), ("auto", "gpu", 4), (-1, "gpu", 4), (1, "gpu", 1)],
)
def test_device_count_reads_every_form_of_trainer_devices(devices, accelerator, expected):
    assert placement.count_devices(devices, accelerator, gpus=4) == expected


def test_strategy_choice():
    assert placement.choose_strategy(2, multirun=True, processes_started_by_cluster=False) == "ddp_spawn"
    assert placement.choose_strategy(1, multirun=True, processes_started_by_cluster=False) == "auto"
    assert placement.choose_strategy(2, multirun=False, processes_started_by_cluster=False) == "auto"
    assert placement.choose_strategy(2, multirun=True, processes_started_by_cluster=True) == "auto"


def test_launcher_names():
    for target, name in ((JOBLIB, "joblib"), (SUBMITIT_LOCAL, "submitit_local"), (SUBMITIT_SLURM, "submitit_slurm")):
        assert launcher.name(hydra_node({"_target_": target})) == name
    assert launcher.name(hydra_node()) == "basic" and launcher.name(None) == "basic"


# --- the same sweep under every launcher ------------------------------------------------------------


@pytest.mark.slow  # submitit's workers: an interpreter each
def test_submitit_local_runs_two_jobs_and_records_a_failure_like_any_sweep(mnist_root, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the parallel extra: pip install -e '.[parallel]'")
    sweep = tmp_path / "sweep"
    # StepLR(step_size=0) divides by zero after the first epoch: job 1 fails mid-training.
    result = run_here(
        "-m", "hydra/launcher=submitit_local", "hydra.launcher.cpus_per_task=1", "model=mlp", "lr_scheduler=step",
        "lr_scheduler.step_size=1,0", "epochs=2", "data.val_size=20", f"hydra.sweep.dir={sweep}",
        "hydra.callbacks.aggregate.plots=false",
        cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root), **project_on_path()},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    jobs = job_dirs(sweep)
    assert [metrics(job)["status"] for job in jobs] == ["completed", "failed"]
    assert "ZeroDivisionError" in metrics(jobs[1])["error"]
    assert "1 of 2 jobs did not complete" in result.stderr
    assert [row["status"] for row in results(sweep)] == ["completed", "failed"]
    assert list((sweep / ".submitit").glob("*/*_log.out"))  # each job's own output, as on a cluster


def test_slurm_config_reaches_sbatch(mnist_root, tmp_path):
    """Up to the submission: a stand-in sbatch keeps the script it is given and refuses it."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the parallel extra: pip install -e '.[parallel]'")
    bin_dir, script = tmp_path / "bin", tmp_path / "sbatch_script"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "sbatch").write_text(f'#!/bin/sh\ncp "$1" {script}\necho "sbatch: not a cluster" >&2\nexit 1\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    result = run_here(
        "-m", "hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.timeout_min=30",
        "hydra.launcher.gpus_per_node=2", "hydra.launcher.tasks_per_node=2", "hydra.launcher.mem_gb=8",
        "model=mlp", "seed=1,2", f"hydra.sweep.dir={tmp_path / 'sweep'}",
        cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    # A refusal is bad input like any other: one line with what sbatch said, exit code 2.
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith("error: the cluster refused the sweep's jobs: sbatch: not a cluster")
    lines = set(script.read_text().splitlines())
    expected = ("--partition=gpu", "--time=30", "--gpus-per-node=2", "--ntasks-per-node=2", "--cpus-per-task=4", "--mem=8GB", "--array=0-1%2")
    assert {f"#SBATCH {option}" for option in expected} <= lines


# --- install ----------------------------------------------------------------------------------------


def test_ci_installs_and_tests_as_the_readme_says():
    readme = (PROJECT / "README.md").read_text()
    setup = re.search(r"## Set up\n\n```bash\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    # ...after installing SLURM and chromium for their tests as the README tells those who want to run them.
    packages = re.search(r"```bash\n(apt-get [^\n]*slurm-wlm munge.*?)\n```", readme, re.S).group(1).splitlines()
    # ...and, after the quick pass, the tests it skips, as the README says.
    slow = re.search(r"```bash\n(pytest --runslow[^\n]*)\n```", readme).group(1)
    ci = [line for line in (PROJECT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [*packages, *setup, slow] and any("chromium" in line for line in packages)
    assert any("parallel" in line and "search" in line for line in setup)


# --- what the project changes in submitit (lenet_lab/launch/submitit_patch.py) ----------------------


def test_submitits_private_api_that_the_slurm_patch_leans_on_is_there():
    pytest.importorskip("submitit", reason="needs the parallel extra: pip install -e '.[parallel]'")
    from lenet_lab.launch.submitit_patch import missing_private_api

    assert missing_private_api() == [], "submitit changed what lenet_lab/launch/submitit_patch.py uses: update the patch"


def test_the_patch_puts_its_watcher_and_endings_in_place_or_changes_nothing_and_says_why(monkeypatch, caplog):
    slurm = pytest.importorskip("submitit.slurm.slurm", reason="needs the parallel extra: pip install -e '.[parallel]'")
    from submitit.core.core import Job

    from lenet_lab.launch import submitit_patch

    monkeypatch.setattr(slurm.SlurmJob, "watcher", slurm.SlurmInfoWatcher(delay_s=7))
    monkeypatch.setattr(slurm.SlurmJob, "results", Job.results)  # submitit's own, unwrapped (an earlier run.cli may have patched it)
    before = slurm.SlurmJob.watcher, slurm.SlurmJob.results
    monkeypatch.setattr(submitit_patch, "missing_private_api", lambda: ["SlurmInfoWatcher._info_dict"])
    with caplog.at_level("WARNING", logger="lenet_lab"):
        submitit_patch.install()
    assert (slurm.SlurmJob.watcher, slurm.SlurmJob.results) == before
    assert "lacks SlurmInfoWatcher._info_dict" in caplog.text and "submitit_patch.py needs updating" in caplog.text
    monkeypatch.undo()  # the real check again; then the same SlurmJob patched
    monkeypatch.setattr(slurm.SlurmJob, "watcher", slurm.SlurmInfoWatcher(delay_s=7))
    monkeypatch.setattr(slurm.SlurmJob, "results", Job.results)  # submitit's own, unwrapped (an earlier run.cli may have patched it)
    submitit_patch.install()
    assert slurm.SlurmJob.watcher.accounting_off is False and slurm.SlurmJob.watcher._delay_s == 7
    assert slurm.SlurmJob.results.records_endings
