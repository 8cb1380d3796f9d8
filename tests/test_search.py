"""hparams_search=optuna and tune_then_test: the project's Optuna sweeper, its lasting study, pruning, plots.

Searches run run.py as a user does, on the suite's tiny data; each skips (with the reason) where the
`search` extra is not installed: pip install -e ".[search]".
"""

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
import yaml

from lenet_lab.studies.space import search_space, trial_overrides
from tests.conftest import PROJECT, run_fresh, run_here
from tests.test_launchers import job_dirs, metrics, results

optuna = pytest.importorskip("optuna", minversion="4", reason="needs the search extra: pip install -e '.[search]'")
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from lenet_lab.studies.storage import JOURNAL_FILE, open_storage  # noqa: E402


def study_of(sweep, name="lenet_lab"):
    return optuna.load_study(study_name=name, storage=open_storage(str(sweep / JOURNAL_FILE)))


# --- the params syntax ----------------------------------------------------------------------------


def test_params_syntax_becomes_optuna_distributions():
    space, fixed = search_space([
        "optimizer=choice(adam, sgd)", "model=lenet,mlp", "optimizer.lr=tag(log, interval(1e-4, 1e-1))",
        "optimizer.momentum=interval(0.5, 0.99)", "data.batch_size=range(32, 257, 32)", "epochs=3", "data.pad=int(interval(0, 4))", "x=interval(0, 4)",
    ])  # fmt: skip
    assert space == {
        "optimizer": CategoricalDistribution(["adam", "sgd"]),
        "model": CategoricalDistribution(["lenet", "mlp"]),
        "optimizer.lr": FloatDistribution(1e-4, 1e-1, log=True),
        "optimizer.momentum": FloatDistribution(0.5, 0.99),
        "data.batch_size": IntDistribution(32, 256, step=32),  # Hydra's range: the end is excluded, as a grid runs it
        "data.pad": IntDistribution(0, 4),  # int(interval(...)): an interval of whole numbers
        "x": FloatDistribution(0, 4),  # Hydra reads every other interval as floats
    }
    assert fixed == ["epochs=3"]
    # A later line replaces an earlier one (the command line after the config's params), sweep or not.
    assert search_space(["epochs=choice(1, 2)", "epochs=3"]) == ({}, ["epochs=3"])
    assert trial_overrides({"optimizer": "adam", "optimizer.lr": 0.001, "data.batch_size": 64}) == ["optimizer=adam", "optimizer.lr=0.001", "data.batch_size=64"]


# --- a search, its study, its plots -------------------------------------------------------------


# The study's plots (Optuna's importance is a random forest: seconds) are drawn where a test looks at them.
SEARCH = ("hparams_search=optuna", "model=mlp", "epochs=1", "data.val_size=20", "hydra.callbacks.aggregate.plots=false", "hydra.sweeper.plots=false")


def test_optuna_search_of_three_trials_aggregates_prints_the_best_and_continues_its_study(mnist_root, tmp_path):
    sweep = tmp_path / "sweep"
    env = {"LENET_LAB_DATA": str(mnist_root)}
    first = run_here(*SEARCH, "hydra.sweeper.n_trials=2", f"hydra.sweep.dir={sweep}", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert len(job_dirs(sweep)) == 2
    # The same command into the same folder continues the study: only what is left of the budget runs.
    result = run_here(*SEARCH, "hydra.sweeper.n_trials=3", "hydra.sweeper.plots=true", f"hydra.sweep.dir={sweep}", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 of 3 trials there" in result.stdout + result.stderr
    jobs = job_dirs(sweep)
    assert [int(job.name.split("_")[0]) for job in jobs] == [0, 1, 2] and all(metrics(job)["status"] == "completed" for job in jobs)
    for job in jobs:  # every trial chose all three
        overrides = "\n".join(yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text()))
        assert re.search(r"^optimizer=\w+$", overrides, re.M) and "optimizer.lr=" in overrides and "data.batch_size=" in overrides
    rows = results(sweep)
    assert len(rows) == 3 and all(row["optimizer.lr"] and row["data.batch_size"] and row["optimizer"] for row in rows)
    # The study in the journal holds the jobs' values, trial by trial (job N is trial N).
    study = study_of(sweep)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert [t.value for t in study.trials] == [metrics(job)["val/acc"] for job in jobs]
    # The seeded sampler moved on: the continued study's trial is not its first one again.
    assert study.trials[2].params != study.trials[0].params
    assert study.trials[2].params["optimizer.lr"] == float(yaml.safe_load((jobs[2] / ".hydra" / "config.yaml").read_text())["optimizer"]["lr"])
    # The best trial, last, with a command line that reruns it on its own.
    best = max(jobs, key=lambda job: metrics(job)["val/acc"])
    tail = result.stdout.strip().splitlines()[-2:]
    assert tail[0] == f"best trial: val/acc {metrics(best)['val/acc']:.4f} in {best}"
    assert tail[1].startswith("  python run.py optimizer=") and "hparams_search" not in tail[1]
    # The study's plots, in the sweep folder.
    for name in ("optimization_history.png", "param_importances.png", "parallel_coordinate.png"):
        assert (sweep / name).read_bytes()[:4] == b"\x89PNG", name
    # A study whose budget is spent runs nothing more.
    again = run_here(*SEARCH, "hydra.sweeper.n_trials=3", f"hydra.sweep.dir={sweep}", cwd=tmp_path, env=env)
    assert again.returncode == 0 and len(job_dirs(sweep)) == 3 and "Launching" not in again.stdout + again.stderr


def test_a_trial_cut_off_mid_run_runs_again_in_its_own_folder(mnist_root, tmp_path):
    # A sweep killed mid-trial leaves the trial RUNNING in the journal: the same command runs it
    # again (its job folder resumes) instead of asking for a new one.
    sweep = tmp_path / "sweep"
    study = optuna.create_study(study_name="lenet_lab", storage=open_storage(str(sweep / JOURNAL_FILE)), direction="maximize")
    cut_off = study.ask({"optimizer.lr": FloatDistribution(1e-3, 1e-2, log=True)})
    result = run_here(*SEARCH, "hydra.sweeper.n_trials=1", f"hydra.sweep.dir={sweep}", cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)})
    assert result.returncode == 0, result.stderr[-3000:]
    (job,) = job_dirs(sweep)
    assert job.name.startswith("0_") and f"optimizer.lr={cut_off.params['optimizer.lr']!r}" in job.name
    assert [t.state for t in study_of(sweep).trials] == [TrialState.COMPLETE]


def test_optuna_search_in_which_no_trial_completes_ends_like_any_failed_sweep(mnist_root, tmp_path):
    # No best trial exists: the sweep must still write its tables, list the failed jobs and exit 1, without a traceback.
    # StepLR(step_size=0) passes the checks before the first trial, then divides by zero in each trial's training.
    sweep = tmp_path / "sweep"
    result = run_here(
        "hparams_search=optuna", "hydra.sweeper.n_trials=2", "lr_scheduler=step", "lr_scheduler.step_size=0",
        f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.plots=false", cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert "best trial: none completed with val/acc" in result.stdout
    assert "2 of 2 jobs did not complete" in result.stdout + result.stderr
    assert (sweep / "results.md").exists() and all(metrics(job)["status"] == "failed" for job in job_dirs(sweep))
    assert [t.state for t in study_of(sweep).trials] == [TrialState.FAIL] * 2


def test_a_search_whose_trials_would_all_fail_is_one_line_before_its_first_trial(tmp_path):
    # What every trial shares is checked as a grid's jobs are: missing data stops the search before any job.
    sweep = tmp_path / "sweep"
    result = run_here("hparams_search=optuna", "hydra.sweeper.n_trials=2", f"data.root={tmp_path / 'no_mnist'}", "data.download=false", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    (line,) = [line for line in result.stderr.splitlines() if "error" in line.lower()]  # beside Optuna's "A new study created"
    assert line.startswith("error: every trial would fail: ") and "MNIST files missing" in line and "Traceback" not in result.stderr
    assert job_dirs(sweep) == [] and study_of(sweep).trials == []


def test_any_storage_url_holds_the_study(mnist_root, tmp_path):
    url = f"sqlite:///{tmp_path / 'search.db'}"
    result = run_here(*SEARCH, "hydra.sweeper.n_trials=1", f"hydra.sweeper.storage={url}", f"hydra.sweep.dir={tmp_path / 'sweep'}", cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "sweep" / JOURNAL_FILE).exists()
    assert [t.state for t in optuna.load_study(study_name="lenet_lab", storage=url).trials] == [TrialState.COMPLETE]


# --- pruning ----------------------------------------------------------------------------------------


IN_JOBLIB_WORKERS = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweeper.n_jobs=2")


@pytest.mark.parametrize(
    "launcher",
    [
        pytest.param((), id="in this process"),
        # joblib's workers report to the study from processes of their own (an interpreter each)
        pytest.param(IN_JOBLIB_WORKERS, id="in joblib's workers", marks=pytest.mark.slow),
    ],
)
def test_median_pruner_stops_trials_and_records_them_pruned(mnist_root, tmp_path, launcher):
    pytest.importorskip("optuna_integration", reason="needs the search extra: pip install -e '.[search]'")
    if launcher:
        pytest.importorskip("hydra_plugins.hydra_joblib_launcher", reason="needs the parallel extra: pip install -e '.[parallel]'")
    sweep = tmp_path / "sweep"
    result = run_here(
        *SEARCH[:2], "epochs=3", *SEARCH[3:], "hydra.sweeper.n_trials=6", f"hydra.sweep.dir={sweep}",
        # A median after one finished trial (the preset waits for 5): pruning shows in a few trials.
        "hydra.sweeper.pruner={_target_:optuna.pruners.MedianPruner,n_startup_trials:1}",
        *launcher, cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)},
    )  # fmt: skip
    # Pruned trials are neither failures nor results: the sweep ends well.
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = job_dirs(sweep)
    statuses = [metrics(job)["status"] for job in jobs]
    assert "pruned" in statuses and "completed" in statuses and set(statuses) == {"pruned", "completed"}
    # The jobs (in joblib's processes too) reported each epoch to the study; it records who was pruned.
    study = study_of(sweep)
    assert [t.state == TrialState.PRUNED for t in study.trials] == [s == "pruned" for s in statuses]
    for trial, job in zip(study.trials, jobs):
        assert trial.intermediate_values and trial.intermediate_values[max(trial.intermediate_values)] == pytest.approx(metrics(job)["val/acc"])
        if trial.state == TrialState.PRUNED:  # stopped after an epoch, untested
            assert "test/acc" not in metrics(job) and re.fullmatch(r"stopped after epoch [123] of 3: val/acc [\d.]+", metrics(job)["error"])
            assert metrics(job)["epochs"] == int(metrics(job)["error"].split()[3]) == len(trial.intermediate_values)
    assert {row["status"] for row in results(sweep)} == {"pruned", "completed"}  # listed as such in the tables
    assert "pruned" in (sweep / "results.md").read_text()


def test_pruner_settings_name_a_preset_or_any_optuna_pruner():
    from omegaconf import OmegaConf

    from lenet_lab.studies.pruners import build_pruner

    assert build_pruner(None) is None
    assert isinstance(build_pruner("median"), optuna.pruners.MedianPruner)
    assert isinstance(build_pruner("hyperband"), optuna.pruners.HyperbandPruner)
    node = OmegaConf.create({"_target_": "optuna.pruners.PercentilePruner", "percentile": 25.0})
    assert isinstance(build_pruner(node), optuna.pruners.PercentilePruner)


def test_an_unknown_pruner_is_one_line(tmp_path, mnist_root):
    result = run_here(*SEARCH, "hydra.sweeper.pruner=median_of_means", f"hydra.sweep.dir={tmp_path / 'sweep'}", cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: hydra.sweeper.pruner=median_of_means: unknown; use median, hyperband" in result.stderr


# --- optuna-dashboard ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_optuna_dashboard_serves_the_study_of_a_search(mnist_root, tmp_path):
    dashboard = shutil.which("optuna-dashboard")
    if dashboard is None:
        pytest.skip("optuna-dashboard not installed (pip install -e '.[search]')")
    sweep = tmp_path / "sweep"
    result = run_here(*SEARCH, "hydra.sweeper.n_trials=2", f"hydra.sweep.dir={sweep}", cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)})
    assert result.returncode == 0, result.stderr[-3000:]
    port = free_port()
    server = subprocess.Popen([dashboard, str(sweep / JOURNAL_FILE), "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, studies = time.monotonic() + 60, None
        while studies is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5) as response:
                    studies = json.load(response)["study_summaries"]
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        assert studies is not None, "the dashboard did not answer within 60 s"
        (study,) = studies
        assert study["study_name"] == "lenet_lab"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/{study['study_id']}", timeout=10) as response:
            trials = json.load(response)["trials"]
        assert [t["values"][0] for t in trials] == pytest.approx([metrics(job)["val/acc"] for job in job_dirs(sweep)])
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- tune, then test --------------------------------------------------------------------------------


def test_tune_then_test_tunes_each_group_alike_then_compares_their_best_over_fresh_seeds(mnist_root, tmp_path, capsys):
    sweep = tmp_path / "sweep"
    command = (
        "hparams_search=tune_then_test", "optimizer=adam,sgd", "hydra.sweeper.n_trials=2", "hydra.sweeper.seeds=2",
        "model=mlp", "epochs=1", "data.val_size=20", f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.plots=false",
    )  # fmt: skip
    env = {"LENET_LAB_DATA": str(mnist_root)}
    result = run_here(*command, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    tuning, final = job_dirs(sweep / "tuning"), job_dirs(sweep / "final")
    configs = {job: yaml.safe_load((job / ".hydra" / "config.yaml").read_text()) for job in tuning + final}
    # The same search for each optimizer: as many trials, the same learning rates proposed (one sampler seed), tuning seed 0.
    lrs = {name: [configs[j]["optimizer"]["lr"] for j in tuning if name in j.name] for name in ("optimizer=adam", "optimizer=sgd")}
    assert len(tuning) == 4 and lrs["optimizer=adam"] == lrs["optimizer=sgd"]
    assert {configs[j]["seed"] for j in tuning} == {0}
    # Each group's best trial (on val/acc), trained again with seeds 1 and 2.
    for name in ("adam", "sgd"):
        study = study_of(sweep, f"lenet_lab optimizer={name}")
        assert len(study.trials) == 2
        tested = [j for j in final if f"optimizer={name}," in j.name]
        assert sorted(configs[j]["seed"] for j in tested) == [1, 2]
        assert {configs[j]["optimizer"]["lr"] for j in tested} == {study.best_params["optimizer.lr"]}
    # The comparison is over the final jobs, grouped by the grid; results.md states the budget and the choices.
    assert sorted(row["job"].split("_")[0] for row in results(sweep)) == ["0", "1", "2", "3"]
    comparison = [line for line in (sweep / "comparison.csv").read_text().splitlines()[1:]]
    assert sorted(line.split(",")[0] for line in comparison) == ["adam", "sgd"]
    text = (sweep / "results.md").read_text()
    assert text.startswith("# Comparison (4 jobs)") and "## Tuning" in text
    assert "2 trials of 1 epoch each, seed 0" in text and "`optimizer.lr`: `tag(log, interval(0.0001, 1.0))`" in text and "seeds 1-2" in text
    for name in ("adam", "sgd"):
        best = study_of(sweep, f"lenet_lab optimizer={name}").best_params["optimizer.lr"]
        assert re.search(rf"^\| {name} \| 2 / 0 / 0 \| [\d.]+ \| {best:.4g} \|$", text, re.M)
    # The tuning jobs are tabled apart, and each study is plotted.
    assert len(results(sweep / "tuning")) == 4
    assert (sweep / "tuning_plots" / "optimizer=adam" / "optimization_history.png").is_file()
    # The same command continues: no trial and no final job runs again.
    again = run_here(*command, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("already completed, skipped") == 4 and len(job_dirs(sweep / "tuning")) == 4
    # Aggregating the sweep folder by hand would rank trials beside tested jobs: refused, naming the two folders.
    from lenet_lab.aggregate import main as aggregate_main

    assert aggregate_main([str(sweep)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert "is a tune_then_test sweep" in line and str(sweep / "final") in line and str(sweep / "tuning") in line
    assert aggregate_main([str(tmp_path)]) == 2  # a folder above it, too
    assert f"{sweep} is a tune_then_test sweep" in capsys.readouterr().err
    assert aggregate_main([str(sweep / "final"), "--out", str(tmp_path / "again")]) == 0


def test_tune_then_test_refuses_a_tuning_seed_among_the_test_seeds(tmp_path, mnist_root):
    result = run_here(
        "hparams_search=tune_then_test", "hydra.sweeper.seeds=3", "hydra.sweeper.tuning_seed=2", f"hydra.sweep.dir={tmp_path / 'sweep'}", cwd=tmp_path, env={"LENET_LAB_DATA": str(mnist_root)}
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: hydra.sweeper.tuning_seed=2 must not be a test seed (1-3)" in result.stderr


def test_a_search_without_the_search_extra_is_one_line(tmp_path, mnist_root):
    # Optuna made unimportable, as where the search extra is not installed.
    (tmp_path / "hidden" / "optuna").mkdir(parents=True)
    (tmp_path / "hidden" / "optuna" / "__init__.py").write_text("raise ImportError(\"No module named 'optuna'\")\n")
    env = {"LENET_LAB_DATA": str(mnist_root), "PYTHONPATH": os.pathsep.join([str(tmp_path / "hidden"), str(PROJECT)])}
    result = run_fresh("hparams_search=optuna", f"hydra.sweep.dir={tmp_path / 'sweep'}", cwd=tmp_path, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "error: a search needs the search extra: pip install -e '.[search]' (No module named 'optuna')" in result.stderr
