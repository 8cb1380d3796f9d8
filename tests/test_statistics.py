"""Intervals, tests and verdicts of the comparison tables, against scipy called directly and hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from lenet_lab import compare as compare_command
from lenet_lab import job_folder
from lenet_lab.evaluation.classification import classification_report
from lenet_lab.job_folder import REPORT_CSV, write_metrics
from lenet_lab.reports import statistics
from lenet_lab.reports.significance import against_reference
from lenet_lab.reports.tables import compare, comparison_markdown

A = [0.991, 0.987, 0.989, 0.990]
B = [0.980, 0.981, 0.978, 0.982]


def test_describe_is_students_t_over_seeds():
    d = statistics.describe(A)
    sem = np.std(A, ddof=1) / math.sqrt(4)
    assert d.n == 4 and d.mean == pytest.approx(np.mean(A)) and d.sem == pytest.approx(sem)
    assert d.half_width == pytest.approx(stats.t.ppf(0.975, 3) * sem)
    one = statistics.describe([0.99])
    assert one.n == 1 and one.mean == 0.99 and math.isnan(one.low) and math.isnan(one.std)
    assert statistics.describe([0.9, float("nan"), 0.8]).n == 2  # a job without the metric is not a zero


def test_paired_t_when_every_job_pairs_else_welch():
    paired = statistics.compare_groups(B, A, [1, 2, 3, 4], [1, 2, 3, 4])
    reference = stats.ttest_rel(B, A)
    assert paired.p == pytest.approx(reference.pvalue) and paired.test == "paired t (4 pairs)"
    assert paired.difference == pytest.approx(np.mean(np.subtract(B, A)))
    assert (paired.low, paired.high) == pytest.approx(tuple(reference.confidence_interval(0.95)))
    # Pairs are matched by key, not by position.
    assert statistics.compare_groups(B, A[::-1], [1, 2, 3, 4], [4, 3, 2, 1]).p == pytest.approx(reference.pvalue)
    welch = statistics.compare_groups(B, A, [5, 6, 7, 8], [1, 2, 3, 4])
    reference = stats.ttest_ind(B, A, equal_var=False)
    assert welch.p == pytest.approx(reference.pvalue) and welch.test == "Welch t (4 vs 4 jobs)"
    assert (welch.low, welch.high) == pytest.approx(tuple(reference.confidence_interval(0.95)))
    one_each = statistics.compare_groups([0.98], [0.99], [1], [1])
    assert math.isnan(one_each.p) and one_each.test == "" and one_each.difference == pytest.approx(-0.01)


def test_batched_p_values_are_scipys_one_at_a_time():
    rng = np.random.default_rng(0)
    designs = [statistics.design(rng.normal(size=n), rng.normal(size=n), list(range(n)), list(range(n)) if paired else None) for n in (3, 4, 3) for paired in (True, False)]
    designs.append(statistics.design([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1, 2, 3], [1, 2, 3]))  # no spread, no difference
    one_at_a_time = [statistics.compare_groups(d.x, d.y, *((list(range(len(d.x))),) * 2 if d.kind == "paired" else (None, None))).p for d in designs]
    assert statistics.p_values(designs) == pytest.approx(one_at_a_time) and one_at_a_time[-1] == 1.0


def test_prediction_interval_for_one_new_run():
    low, high = statistics.prediction_interval(A)
    half = stats.t.ppf(0.975, 3) * np.std(A, ddof=1) * math.sqrt(1 + 1 / 4)
    assert (low, high) == pytest.approx((np.mean(A) - half, np.mean(A) + half))
    assert all(math.isnan(v) for v in statistics.prediction_interval([0.99]))


def test_mcnemar_exact_on_constructed_predictions():
    # 10 images: both right on 4, only the first right on 1, only the second right on 5 -> 6 discordant.
    first = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    second = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], dtype=bool)
    result = statistics.mcnemar(first, second)
    # Exact two-sided: P(X <= 1) + P(X >= 5) for X ~ Binomial(6, 1/2) = (1 + 6 + 6 + 1) / 64.
    assert result.p == pytest.approx(14 / 64)
    assert result.difference == pytest.approx(-0.4) and result.low < -0.4 < result.high
    assert statistics.mcnemar(first, first).p == 1.0


def test_holm_step_down():
    adjusted = statistics.holm([0.01, 0.04, float("nan"), 0.03])
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, max(0.03, 2 * 0.03), max(0.06, 1 * 0.04)
    assert adjusted[0] == pytest.approx(0.03) and adjusted[3] == pytest.approx(0.06) and adjusted[1] == pytest.approx(0.06)
    assert math.isnan(adjusted[2])


def summary_of(groups: dict[str, list[float]], status: dict | None = None) -> pd.DataFrame:
    """One job per value and seed; validation accuracy equal to test accuracy."""
    rows = []
    for model, values in groups.items():
        for seed, value in enumerate(values, start=1):
            rows.append({"job": f"{model}{seed}", "model": model, "seed": seed, "status": (status or {}).get((model, seed), "completed"), "val/acc": value, "test/acc": value, "path": f"/jobs/{model}{seed}"})
    return pd.DataFrame(rows)


METRICS = ["val/acc", "test/acc"]


def test_verdicts_against_the_reference_over_every_pair():
    c = [a - 0.0002 for a in A[:3]] + [A[3] + 0.0004]
    table = compare(summary_of({"a": A, "b": B, "c": c, "d": [0.9, 0.99]}), ["model"], METRICS, "val/acc")
    verdict = dict(zip(table.model, table.verdict))
    assert list(table.model) == ["a", "c", "b", "d"] and verdict["a"] == "reference"
    raw = dict(zip(table.model, table["vs_ref p"]))
    assert raw["b"] == pytest.approx(stats.ttest_rel(B, A).pvalue)
    # The family is every pair of the judged groups {a, b, c} (d has two seeds): a-b, a-c, b-c.
    family = [raw["b"], raw["c"], stats.ttest_rel(B, c).pvalue]
    holm = dict(zip(table.model, table["vs_ref p_holm"]))
    assert [holm["b"], holm["c"]] == pytest.approx(list(statistics.holm(family)[:2]))
    assert verdict["b"].startswith("worse (p=") and verdict["c"].startswith("not distinguishable (p=")
    assert verdict["d"] == statistics.TOO_FEW and math.isnan(holm["d"])  # two seeds: reported, not judged
    markdown = comparison_markdown(table, ["model"], METRICS, "val/acc")
    assert "verdict" in markdown and "too few seeds to judge" in markdown and "paired t (4 pairs)" in markdown


def test_failed_jobs_are_left_out():
    summary = summary_of({"a": A, "b": B}, status={("a", 4): "failed", ("b", 4): "diverged"})
    table = compare(summary, ["model"], METRICS, "val/acc").set_index("model")
    assert table.loc["a", "n"] == 3 and table.loc["a", "not_completed"] == 1
    assert table.loc["a", "test/acc mean"] == pytest.approx(np.mean(A[:3]))
    assert table.loc["b", "vs_ref p"] == pytest.approx(stats.ttest_rel(B[:3], A[:3]).pvalue)


def test_single_jobs_are_compared_on_their_test_images():
    right = {"/jobs/a1": np.array([1] * 95 + [0] * 5, bool), "/jobs/b1": np.array([1] * 80 + [0] * 20, bool)}
    table = compare(summary_of({"a": [0.95], "b": [0.80]}), ["model"], METRICS, "val/acc", correct_of=right.get)
    b = table.set_index("model").loc["b"]
    assert b["vs_ref test"] == "McNemar exact (100 images)"
    assert b["vs_ref p"] == pytest.approx(stats.binomtest(0, 15, 0.5).pvalue)
    assert b["verdict"].startswith("worse")
    without = compare(summary_of({"a": [0.95], "b": [0.80]}), ["model"], METRICS, "val/acc", correct_of=lambda path: None)
    assert without.set_index("model").loc["b", "verdict"] == "one seed each: no test"
    # The predictions are of test images: a table judged on another metric doesn't borrow their verdict.
    on_time = compare(summary_of({"a": [0.95], "b": [0.80]}).assign(train_time_s=[10.0, 9.0]), ["model"], ["train_time_s"], "train_time_s", correct_of=right.get)
    b = on_time.set_index("model").loc["a"]
    assert b["verdict"] == "one seed each: no test" and b["vs_ref diff"] == pytest.approx(1.0)


def test_against_reference_of_an_empty_table():
    empty = pd.DataFrame(columns=["model", "n"])
    assert list(against_reference(empty, [], "test/acc", 0).columns)[-1] == "verdict"


def job_with_predictions(path, labels, predicted, seed=1, model="lenet"):
    """A completed job folder whose evaluation/ holds per-image predictions and the classification report."""
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"model={model}", f"seed={seed}"]))
    write_metrics(path, {"status": "completed", "test/acc": float(np.mean(labels == predicted))})
    job_folder.evaluation_dir(path).mkdir()
    np.savez_compressed(job_folder.predictions_file(path), label=labels.astype(np.uint8), predicted=predicted.astype(np.uint8), confidence=np.ones(len(labels), np.float16))
    classification_report(labels, predicted, 10).to_csv(job_folder.evaluation_dir(path) / REPORT_CSV, index=False)
    return path


def test_compare_two_single_jobs_by_mcnemar(tmp_path, capsys):
    labels = np.arange(200) % 10
    good = labels.copy()
    good[:4] = (labels[:4] + 1) % 10  # 4 wrong
    bad = labels.copy()
    bad[labels == 3] = 5  # all 20 threes wrong
    job_with_predictions(tmp_path / "sweep" / "0_model=lenet", labels, good)
    job_with_predictions(tmp_path / "sweep" / "1_model=mlp", labels, bad, model="mlp")
    assert compare_command.main([f"{tmp_path / 'sweep'}:model=lenet", f"{tmp_path / 'sweep'}:model=mlp"]) == 0
    out = capsys.readouterr().out
    # Discordant images: lenet alone right on 19 (the threes it gets right), mlp alone right on 3.
    assert stats.binomtest(19, 22, 0.5).pvalue < 0.001 and "p < 0.001: a real difference" in out
    assert "McNemar exact (200 images)" in out and "a real difference" in out
    assert "difference (A - B): +8.00 points" in out
    assert "classes that differ most (recall, A - B): 3: +95.00" in out  # lenet got 19 of 20 threes, mlp none
    low, high = statistics.accuracy_interval(196, 200)
    assert f"98.00% [{100 * low:.2f}%, {100 * high:.2f}%]" in out


def test_compare_groups_of_seeds_and_bad_input(tmp_path, capsys):
    for seed, (a, b) in enumerate(zip(A, B), start=1):
        for model, value in (("lenet", a), ("mlp", b)):
            path = tmp_path / f"{model}_{seed}"
            (path / ".hydra").mkdir(parents=True)
            (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"model={model}", f"seed={seed}"]))
            write_metrics(path, {"status": "completed", "test/acc": value})
    assert compare_command.main([f"{tmp_path}:model=lenet", f"{tmp_path}:model=mlp"]) == 0
    out = capsys.readouterr().out
    assert "paired t (4 pairs)" in out and f"p = {statistics.format_p(stats.ttest_rel(A, B).pvalue)}" in out
    assert compare_command.main([f"{tmp_path}:model=resnet18", str(tmp_path)]) == 2
    assert "no completed job" in capsys.readouterr().err
