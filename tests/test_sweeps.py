"""sweeps/*.yaml: every write-up table composes, runs in quick form, and ends with published vs measured.

One `python run.py +sweep=NAME` per sweep file, run in this process (tests.conftest.run_here), on the
tiny synthetic MNIST, one epoch of one Lightning step per job, the jobs' evaluation figures not drawn.
"""

import json

import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir

import lenet_lab.startup  # noqa: F401  (registers the config schema, as run.py does)
from hydra_plugins.lenet_lab.row_sweeper import row_jobs, sweep_file_values
from lenet_lab import sweep_folder
from tests.conftest import PROJECT, run_here

SWEEPS = sorted(path.stem for path in (PROJECT / "sweeps").glob("*.yaml"))
# One Lightning step of one batch (batch-size-1 rows would otherwise take ~256 images a step).
QUICK = ("epochs=1", "++trainer.limit_train_batches=1", "++trainer.limit_val_batches=1", "data.val_size=20", "data.batches_per_step=1")


def rows_of(name: str) -> dict:
    return yaml.safe_load((PROJECT / "sweeps" / f"{name}.yaml").read_text())["hydra"]["sweeper"]["rows"]


def run_sweep(name, sweep_dir, mnist_root, *extra):
    return run_here(f"+sweep={name}", *QUICK, f"hydra.sweep.dir={sweep_dir}", *extra, cwd=sweep_dir.parent, env={"LENET_LAB_DATA": str(mnist_root)})


def test_the_six_write_up_tables_are_there():
    assert SWEEPS == ["keras_lenet", "lecun1998", "lenet_optimizers", "lightning_lr", "lightning_models", "optimizer_comparison"]
    for name in SWEEPS:
        for row, spec in rows_of(name).items():
            assert spec["published"], f"{name}/{row} has no published numbers"



def test_restating_the_sweep_files_own_value_is_not_a_change():
    # lecun1998.yaml says epochs: 20 and data.val_size: 0 at its top; lenet_adam_10 says epochs=10.
    arguments = ["+sweep=lecun1998", "epochs=20", "data.val_size=0", "seed=3"]
    jobs = row_jobs(rows_of("lecun1998"), ["lenet5_1998_rbf", "lenet_adam_10"], arguments, sweep_file_values(arguments))
    rbf, adam = ([o for o in job if not o.startswith(("model", "optimizer", "lr_scheduler", "data.batch_size", "data.train_eval"))] for job in jobs)
    assert rbf == ["sweep.row=lenet5_1998_rbf", "+sweep=lecun1998", "seed=3"]
    assert adam == ["sweep.row=lenet_adam_10", "+sweep=lecun1998", "epochs=20", "seed=3"]  # the row said 10: a change

@pytest.mark.parametrize("name", SWEEPS)
def test_every_row_composes_with_its_own_settings(name, mnist_root):
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        for job in row_jobs(rows_of(name), None, [f"+sweep={name}", "epochs=2"]):
            cfg = compose("config", overrides=[f"data.root={mnist_root}", *job])
            row = job[0].split("=", 1)[1]
            assert cfg.sweep.name == name and cfg.sweep.row == row
            assert cfg.epochs == 2  # the command line wins over the row and the sweep file
            if not any(o.startswith("lr_scheduler=") for o in job):  # as published: no schedule, whatever the default run uses
                assert not cfg.lr_scheduler, f"{name}/{row} would train with the default run's schedule"


def test_rows_differ_as_published(compose_config):
    """Spot checks that rows carry their own config-group choices and values."""
    jobs = {job[0].split("=", 1)[1]: job for job in row_jobs(rows_of("lenet_optimizers"), None, ["+sweep=lenet_optimizers"])}
    sgd = compose_config(*jobs["sgd_lr1"])
    adam = compose_config(*jobs["adam_100"])
    assert sgd.optimizer._target_ == "torch.optim.SGD" and sgd.optimizer.lr == 1.0 and sgd.epochs == 30
    assert adam.optimizer._target_ == "torch.optim.Adam" and adam.epochs == 100
    keras = compose_config("+sweep=keras_lenet", "sweep.row=keras_lenet")
    assert keras.data.batch_size == 128 and keras.model.hidden == [120] and keras.epochs == 50


def test_command_line_sweeps_run_for_every_row_and_win_over_rows():
    rows = {"a": {"overrides": ["optimizer=sgd", "epochs=30"]}, "b": {"overrides": ["optimizer=adam"]}}
    jobs = row_jobs(rows, None, ["seed=1,2", "epochs=2", "+sweep=x"])
    assert jobs == [
        ["sweep.row=a", "optimizer=sgd", "seed=1", "epochs=2", "+sweep=x"],
        ["sweep.row=a", "optimizer=sgd", "seed=2", "epochs=2", "+sweep=x"],
        ["sweep.row=b", "optimizer=adam", "seed=1", "epochs=2", "+sweep=x"],
        ["sweep.row=b", "optimizer=adam", "seed=2", "epochs=2", "+sweep=x"],
    ]
    assert [job[0] for job in row_jobs(rows, ["b*"], [])] == ["sweep.row=b"]


@pytest.mark.parametrize("name", SWEEPS)
def test_sweep_runs_in_quick_form_and_reports_published_vs_measured(name, mnist_root, tmp_path):
    plots = name == "lightning_models"  # figures once: they cost seconds per sweep
    # lightning_lr's 12 rows are 3 models x 4 rates: one rate runs here (all 12 compose above).
    select = ["hydra.sweeper.select=[*_lr0.02]"] if name == "lightning_lr" else []
    sweep = tmp_path / name
    result = run_sweep(name, sweep, mnist_root, f"hydra.callbacks.aggregate.plots={str(plots).lower()}", *select)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = rows_of(name)
    if select:
        rows = {row: spec for row, spec in rows.items() if row.endswith("_lr0.02")}
        assert len(rows) == 3
    jobs = {path.name.split("_", 1)[1]: path for path in sweep.iterdir() if path.name[0].isdigit()}
    assert set(jobs) == set(rows)
    for path in jobs.values():
        assert json.loads((path / "metrics.json").read_text())["status"] == "completed"
        assert yaml.safe_load((path / ".hydra" / "config.yaml").read_text())["sweep"]["row"] == path.name.split("_", 1)[1]

    if plots:  # the sweep file's figures, the training images from the jobs' own data folder among them
        for name in (sweep_folder.CURVES_PNG, sweep_folder.PUBLISHED_PNG, sweep_folder.ROW_CURVES_PNG, sweep_folder.TRAIN_IMAGES_PNG):
            assert (sweep / name).read_bytes()[:4] == b"\x89PNG", name

    table = pd.read_csv(sweep / "published.csv")
    expected = {(row, metric) for row, spec in rows.items() for metric in spec["published"]}
    assert {(r, m.replace(" %", "")) for r, m in zip(table.row, table.metric)} == expected
    for line in table.itertuples():
        published = rows[line.row]["published"][line.metric.replace(" %", "")]
        assert line.published == pytest.approx(published)
        assert line.difference == pytest.approx(line.measured - line.published)
        metrics = json.loads((jobs[line.row] / "metrics.json").read_text())
        metric = line.metric.replace(" %", "")
        if metric.startswith("train/") and "train_eval/acc" in metrics:  # the training set after the pass (the 1998 row)
            assert "data.train_eval_every_epoch=true" in rows[line.row]["overrides"]
            metric = metric.replace("train/", "train_eval/")
        if metric.endswith("/err"):
            assert line.measured == pytest.approx(100 * (1 - metrics[metric.replace("/err", "/acc")]))
        else:
            assert line.measured == pytest.approx(metrics[metric] * (100 if metric.endswith("/acc") else 1))
        assert line.n == 1 and "epochs=1" in line.changed  # a quick run is never passed off as the published setup
    markdown = (sweep / "published.md").read_text()
    assert "SHORTENED" in markdown and "(shortened)" in markdown
    assert "published vs measured" in result.stdout
    if plots:
        for figure in ("published.png", "row_curves.png", "row_errors.png", "train_images.png"):
            assert (sweep / figure).stat().st_size > 1000, figure
        assert list((sweep / "figures").glob("events.out.tfevents.*"))
