"""Aggregation over event files and job folders the tests write themselves: no training."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from torch.utils.tensorboard import SummaryWriter

from lenet_lab.aggregate import aggregate, main
from lenet_lab.job_folder import write_metrics


def fake_job(path, overrides, val_accs, test_acc, status="completed", seed_offset=0.0, train_time=10.0):
    """A job folder as run.py leaves it: .hydra/overrides.yaml, event file, metrics.json."""
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (path / ".hydra" / "config.yaml").write_text("seed: 1\n")
    writer = SummaryWriter(str(path))
    for epoch, acc in enumerate(val_accs):
        step = 10 * (epoch + 1) - 1
        writer.add_scalar("epoch", epoch, step)
        writer.add_scalar("val/acc", acc, step)
        writer.add_scalar("train/loss", 1.0 / (epoch + 1), step)
        writer.add_scalar("train/acc", acc - 0.01, step)
    writer.close()
    if status is not None:
        metrics = {"status": status, "epochs": len(val_accs), "num_params": 100, "train_time_s": train_time}
        if status == "completed":
            metrics.update({"train/acc": val_accs[-1] - 0.01, "val/acc": val_accs[-1], "test/acc": test_acc, "test/loss": 0.1})
        else:
            metrics["error"] = "RuntimeError: boom"
        write_metrics(path, metrics)
    return path


@pytest.fixture
def sweep(tmp_path):
    """model in {a, b} x seed in {1, 2}, written with known numbers."""
    root = tmp_path / "sweep"
    fake_job(root / "0_model=a,seed=1", ["model=a", "seed=1", "epochs=3"], [0.90, 0.95, 0.93], 0.94, train_time=10)
    fake_job(root / "1_model=a,seed=2", ["model=a", "seed=2", "epochs=3"], [0.91, 0.92, 0.96], 0.96, train_time=12)
    fake_job(root / "2_model=b,seed=1", ["model=b", "seed=1", "epochs=3"], [0.97, 0.98, 0.99], 0.99, train_time=30)
    fake_job(root / "3_model=b,seed=2", ["model=b", "seed=2", "epochs=3"], [0.97, 0.98, 0.97], 0.97, train_time=34)
    return root


def test_summary_holds_what_was_written(sweep):
    summary = aggregate([sweep], plots=False)["summary"].set_index("job")
    row = summary.loc["0_model=a,seed=1"]
    assert row["model"] == "a" and row["seed"] == 1 and row["epochs"] == 3 and row["epochs_completed"] == 3
    assert row["test/acc"] == pytest.approx(0.94)
    assert row["val/acc"] == pytest.approx(0.93)
    assert row["best_val/acc"] == pytest.approx(0.95) and row["best_val/epoch"] == 2
    assert row["status"] == "completed" and row["num_params"] == 100


def test_comparison_groups_over_seeds(sweep):
    comparison = aggregate([sweep], plots=False)["comparison"].set_index("model")
    assert list(comparison.index) == ["b", "a"]  # best validation accuracy first
    assert comparison.loc["a", "n"] == 2
    assert comparison.loc["a", "test/acc mean"] == pytest.approx(0.95)
    assert comparison.loc["a", "test/acc std"] == pytest.approx(math.sqrt(2) * 0.01)  # sample std of 0.94, 0.96
    assert comparison.loc["b", "train_time_s mean"] == pytest.approx(32)


def test_files_written_and_curves_complete(sweep):
    aggregate([sweep], plots=True)
    for name in ("results.csv", "results.md", "curves.csv", "comparison.csv", "curves.png", "test_acc.png", "train_time.png"):
        assert (sweep / name).is_file(), name
    curves = pd.read_csv(sweep / "curves.csv")
    val = curves[(curves.job == "1_model=a,seed=2") & (curves.tag == "val/acc")]
    assert list(val.epoch) == [1, 2, 3] and list(val.value.round(2)) == [0.91, 0.92, 0.96]
    results = pd.read_csv(sweep / "results.csv")
    assert len(results) == 4 and results["test/acc"].max() == pytest.approx(0.99)  # full precision
    markdown = (sweep / "results.md").read_text()
    assert "98.00 ± 12.71" in markdown  # model b: 99 and 97 in %, t(0.975, 1 df) = 12.706 times the standard error 1.0


def test_failed_running_and_corrupt_jobs_are_reported_not_fatal(sweep):
    fake_job(sweep / "4_model=c,seed=1", ["model=c", "seed=1", "epochs=3"], [0.5], None, status="failed")
    fake_job(sweep / "5_model=c,seed=2", ["model=c", "seed=2", "epochs=3"], [0.6, 0.7], None, status=None)
    corrupt = sweep / "1_model=a,seed=2"
    event_file = next(corrupt.glob("events.out.tfevents.*"))
    event_file.write_bytes(event_file.read_bytes()[:-9])  # a job killed mid-write
    with pytest.warns(UserWarning) as caught:
        result = aggregate([sweep], plots=True)
    assert any("truncated or corrupt" in str(w.message) and "1_model=a,seed=2" in str(w.message) for w in caught)
    summary = result["summary"].set_index("job")
    assert summary.loc["4_model=c,seed=1", "status"] == "failed"
    assert summary.loc["4_model=c,seed=1", "error"] == "RuntimeError: boom"
    assert summary.loc["5_model=c,seed=2", "status"] == "running"
    assert summary.loc["5_model=c,seed=2", "val/acc"] == pytest.approx(0.7)  # its partial curve
    comparison = result["comparison"].set_index("model")
    assert comparison.loc["c", "n"] == 0 and comparison.loc["c", "not_completed"] == 2
    assert "failed" in (sweep / "results.md").read_text()


def test_a_folder_above_many_sweeps_and_explicit_grouping(tmp_path):
    for sweep_name in ("first", "second"):
        fake_job(tmp_path / sweep_name / "0_optimizer.lr=0.1", ["optimizer.lr=0.1"], [0.8], 0.8)
        fake_job(tmp_path / sweep_name / "1_optimizer.lr=0.01", ["optimizer.lr=0.01"], [0.9], 0.9)
    result = aggregate([tmp_path], group_by=["optimizer.lr"], metrics=["test/acc"], formats=("csv",), plots=False)
    assert len(result["summary"]) == 4
    comparison = result["comparison"]
    assert list(comparison["optimizer.lr"]) == ["0.01", "0.1"] and list(comparison["n"]) == [2, 2]
    assert not (tmp_path / "results.md").exists()


def test_jobs_of_sweeps_over_different_keys_all_stay_in_the_comparison(tmp_path):
    fake_job(tmp_path / "models" / "0_model=a", ["model=a"], [0.8], 0.8)
    fake_job(tmp_path / "models" / "1_model=b", ["model=b"], [0.9], 0.9)
    fake_job(tmp_path / "optimizers" / "0_optimizer=sgd", ["optimizer=sgd"], [0.7], 0.7)
    comparison = aggregate([tmp_path], plots=False)["comparison"]
    assert comparison["n"].sum() == 3
    assert ("(default)", "sgd") in set(zip(comparison["model"], comparison["optimizer"]))  # nothing says which


def test_a_key_a_job_did_not_set_takes_the_value_it_ran_with(tmp_path):
    fake_job(tmp_path / "models" / "0_model=a", ["model=a"], [0.8], 0.8)
    sgd = fake_job(tmp_path / "optimizers" / "0_optimizer=sgd", ["optimizer=sgd"], [0.7], 0.7)
    (sgd / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"runtime": {"choices": {"model": "a", "optimizer": "sgd"}}}}))
    (sgd / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"optimizer": {"lr": 0.01}}))
    summary = aggregate([tmp_path], plots=False)["summary"].set_index("job")
    assert summary.loc["optimizers/0_optimizer=sgd", "model"] == "a"  # from Hydra's record of its choices
    comparison = aggregate([tmp_path], group_by=["model"], plots=False)["comparison"]
    assert list(comparison["model"]) == ["a"] and comparison["n"].item() == 2


def test_test_scores_belong_to_the_last_epoch(sweep):
    job = sweep / "0_model=a,seed=1"
    writer = SummaryWriter(str(job))
    writer.add_scalar("epoch", 3, 30)  # Lightning's counter after 3 epochs, when testing
    writer.add_scalar("test/acc", 0.94, 30)
    writer.close()
    curves = aggregate([sweep], plots=False)["curves"]
    test = curves[(curves.job == job.name) & (curves.tag == "test/acc")]
    assert list(test.epoch) == [3]


def test_cli_prints_the_table_and_rejects_bad_input(sweep, tmp_path, capsys):
    assert main([str(sweep), "--no-plots", "--metrics", "test/acc"]) == 0
    out = capsys.readouterr().out
    assert "| model" in out and "98.00 ± 12.71" in out and "too few seeds to judge" in out
    assert main([str(tmp_path / "missing")]) == 2
    assert main([str(sweep), "--group-by", "optimizer"]) == 2
    assert "unknown group-by key" in capsys.readouterr().err
    assert main([str(sweep), "--metrics", "status"]) == 2  # not a number
    assert "non-numeric" in capsys.readouterr().err


def fake_row_job(path, row, overrides, accs, rows):
    """A job of a sweep file: its row in the overrides, the rows with their published numbers in hydra.yaml."""
    fake_job(path, [f"sweep.row={row}", "+sweep=table", *overrides], [accs[1]], accs[2])
    (path / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {"sweeper": {"reference": "section 9", "rows": rows}}}))
    metrics = json.loads((path / "metrics.json").read_text())
    write_metrics(path, {**metrics, "train/acc": accs[0]})
    return path


def test_rows_of_a_sweep_file_are_compared_with_their_published_numbers(tmp_path):
    rows = {
        "sgd": {"overrides": ["optimizer=sgd", "epochs=30"], "published": {"test/acc": 88.0, "train/err": 10.0}},
        "adam": {"overrides": ["optimizer=adam"], "published": {"test/acc": 97.0, "train_time_s": 5.0}},
    }
    sweep = tmp_path / "sweep"
    fake_row_job(sweep / "0_sgd", "sgd", ["optimizer=sgd", "epochs=30", "seed=1"], (0.80, 0.85, 0.90), rows)
    fake_row_job(sweep / "1_sgd", "sgd", ["optimizer=sgd", "epochs=30", "seed=2"], (0.84, 0.85, 0.92), rows)
    fake_row_job(sweep / "2_adam", "adam", ["optimizer=adam", "epochs=2", "threads=1"], (0.96, 0.97, 0.98), rows)
    result = aggregate([sweep], plots=True)
    assert list(result["comparison"].columns[:1]) == ["sweep.row"]  # rows, not every key a row sets
    table = pd.read_csv(sweep / "published.csv").set_index(["row", "metric"])
    sgd = table.loc[("sgd", "test/acc %")]
    assert sgd.published == 88.0 and sgd.measured == pytest.approx(91.0) and sgd.difference == pytest.approx(3.0) and sgd.n == 2
    assert sgd.measured_std == pytest.approx(math.sqrt(2))
    # 90 and 92: one new run falls within 91 ± t(0.975, 1) x sqrt(2) x sqrt(1 + 1/2) = 91 ± 22.01; 88 lies inside.
    half = stats.t.ppf(0.975, 1) * math.sqrt(2) * math.sqrt(1.5)
    assert (sgd.interval_low, sgd.interval_high) == pytest.approx((91 - half, 91 + half)) and sgd.published_inside == "yes"
    assert sgd.interval == "prediction, t over 2 seeds"
    assert table.loc[("sgd", "train/err %")].measured == pytest.approx(18.0)  # 100 - mean(80, 84)
    assert table.loc[("adam", "train_time_s")].measured == pytest.approx(10.0)
    assert pd.isna(table.loc[("sgd", "test/acc %")].changed)  # seed and the row's own overrides are no change
    assert table.loc[("adam", "test/acc %")].changed == "epochs=2"  # threads says how it ran, not what
    markdown = (sweep / "published.md").read_text()
    assert "section 9" in markdown and "adam (shortened)" in markdown and "SHORTENED: `adam` ran with `epochs=2`" in markdown
    assert "| sgd " in markdown and "sgd (" not in markdown
    assert f"91.00 [{91 - half:.2f}, {91 + half:.2f}]" in markdown and "prediction interval for one new run" in markdown
    for figure in ("published.png", "row_curves.png", "row_errors.png"):
        assert (sweep / figure).is_file(), figure
    assert list((sweep / "figures").glob("events.out.tfevents.*"))


def test_a_row_run_as_published_and_shortened_is_two_lines_never_averaged(tmp_path):
    rows = {"adam": {"overrides": ["optimizer=adam"], "published": {"test/acc": 97.0}}}
    fake_row_job(tmp_path / "full" / "0_adam", "adam", ["optimizer=adam"], (0.9, 0.9, 0.98), rows)
    fake_row_job(tmp_path / "short" / "0_adam", "adam", ["optimizer=adam", "epochs=1"], (0.5, 0.5, 0.60), rows)
    table = aggregate([tmp_path], plots=False)["published"]
    assert sorted(zip(table.changed, table.measured)) == [("", pytest.approx(98.0)), ("epochs=1", pytest.approx(60.0))]
    markdown = (tmp_path / "published.md").read_text()
    assert "| adam " in markdown and "| adam (shortened) " in markdown


def test_training_error_is_the_one_measured_after_the_pass_where_a_job_measured_it(tmp_path):
    # The 1998 paper's training error is measured after each pass (data.train_eval_every_epoch);
    # a job without that measurement falls back to its running accuracy.
    rows = {"paper": {"overrides": ["optimizer=sdlm"], "published": {"train/err": 0.35}}}
    after_pass = fake_row_job(tmp_path / "0_paper", "paper", ["optimizer=sdlm", "seed=1"], (0.980, 0.99, 0.99), rows)
    fake_row_job(tmp_path / "1_paper", "paper", ["optimizer=sdlm", "seed=2"], (0.970, 0.99, 0.99), rows)
    with SummaryWriter(str(after_pass)) as writer:
        writer.add_scalar("train_eval/acc", 0.996, 9)
    table = aggregate([tmp_path], plots=False)["published"]
    assert table.measured.iloc[0] == pytest.approx((0.4 + 3.0) / 2)  # 100 - 99.6 and 100 - 97.0
    assert "after the last pass with the weights fixed" in (tmp_path / "published.md").read_text()


def test_no_published_table_without_sweep_files(sweep):
    aggregate([sweep], plots=False)
    assert not (sweep / "published.csv").exists() and not (sweep / "published.md").exists()


def test_a_test_set_measured_every_epoch_keeps_its_epochs(sweep):
    job = sweep / "0_model=a,seed=1"
    writer = SummaryWriter(str(job))
    for epoch in range(3):  # data.test_every_epoch: logged with the validation, at its step
        writer.add_scalar("test/acc", 0.5 + 0.1 * epoch, 10 * (epoch + 1) - 1)
    writer.add_scalar("epoch", 3, 30)  # and the final test, after the last epoch
    writer.add_scalar("test/acc", 0.7, 30)
    writer.close()
    curves = aggregate([sweep], plots=False)["curves"]
    test = curves[(curves.job == job.name) & (curves.tag == "test/acc")]
    assert list(test.epoch) == [1, 2, 3, 3]


def test_one_seed_of_a_published_row_gets_its_test_set_interval(tmp_path):
    rows = {"adam": {"overrides": ["optimizer=adam"], "published": {"test/acc": 99.0, "test/err": 1.0}}}
    job = fake_row_job(tmp_path / "0_adam", "adam", ["optimizer=adam"], (0.9, 0.9, 0.98), rows)
    (job / "evaluation").mkdir()
    pd.DataFrame(np.diag([1000] * 10)).to_csv(job / "evaluation" / "confusion_matrix.csv")  # 10,000 test images
    table = aggregate([tmp_path], plots=False)["published"].set_index("metric")
    low, high = stats.binomtest(9800, 10000).proportion_ci(0.95, method="wilson")
    assert (table.loc["test/acc %", "interval_low"], table.loc["test/acc %", "interval_high"]) == pytest.approx((100 * low, 100 * high))
    assert table.loc["test/acc %", "published_inside"] == "no" and table.loc["test/acc %", "interval"] == "Wilson, 10000 test images"
    assert table.loc["test/err %", "interval_low"] == pytest.approx(100 * (1 - high)) and table.loc["test/err %", "published_inside"] == "no"


def test_a_seed_at_chance_is_named_beside_its_groups_interval(sweep):
    # model=a's third seed never trained: 11.35% is what predicting one digit scores on MNIST's test set.
    fake_job(sweep / "4_model=a,seed=3", ["model=a", "seed=3", "epochs=3"], [0.11, 0.11, 0.11], 0.1135)
    aggregate([sweep], plots=False)
    markdown = (sweep / "results.md").read_text()
    at_chance = markdown.split("## Jobs at chance")[1].split("## Jobs\n")[0]
    assert "`4_model=a,seed=3`: test/acc 11.35%, at chance" in at_chance
    assert "seed=1" not in at_chance and "seed=2" not in at_chance  # the seeds that trained are not listed


def test_no_jobs_at_chance_section_when_every_seed_trained(sweep):
    aggregate([sweep], plots=False)
    assert "at chance" not in (sweep / "results.md").read_text()


def test_the_best_trial_is_the_completed_job_with_the_highest_value_read_from_the_tables_rows():
    from lenet_lab.sweep_callbacks import best_job

    summary = pd.DataFrame({
        "path": ["s/0", "s/1", "s/2", "s/3", "s/4"],
        "status": ["failed", "completed", "completed", "completed", "diverged"],
        "val/acc": [0.99, 0.95, float("nan"), 0.97, 0.98],
    })  # fmt: skip
    assert best_job(summary, "val/acc") == (Path("s/3"), 0.97)  # not the failed, unmeasured or diverged one
    assert best_job(summary, "val/loss") is None
    assert best_job(summary.assign(status="failed"), "val/acc") is None
    assert best_job(pd.DataFrame(), "val/acc") is None  # a sweep without jobs
