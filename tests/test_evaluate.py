"""Every tested job leaves its evaluation; `python -m lenet_lab.evaluate` redoes it from the checkpoint, with t-SNE."""

import sys

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lenet_lab import evaluate
from lenet_lab.evaluation.calibration import expected_calibration_error, reliability_table
from lenet_lab.evaluation.classification import accuracy, classification_report, confusion_matrix
from lenet_lab.evaluation.features import penultimate_features
from lenet_lab.evaluation.job_evaluation import read_calibration, read_confusion, read_report
from lenet_lab.evaluation.tsne import tsne
from lenet_lab.training.train import build
from tests.conftest import TINY_TEST, TINY_TRAIN

EVALUATION_FILES = ("confusion_matrix.csv", "confusion_matrix.png", "classification_report.csv", "misclassified.png", "predictions.png", "calibration.csv", "reliability.png")


def test_a_tested_job_leaves_its_evaluation(trained_job):
    job_dir, metrics = trained_job  # conftest's: the default LeNet, trained and tested
    out = job_dir / "evaluation"
    for name in EVALUATION_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
        if name.endswith(".png"):
            assert min(Image.open(out / name).size) > 100, name  # drawn, not conftest's quick_figures stand-in
    matrix = read_confusion(job_dir)
    assert matrix.shape == (10, 10) and matrix.sum() == TINY_TEST  # every test digit, once
    assert matrix.sum(1).tolist() == [TINY_TEST // 10] * 10  # rows are the true classes
    assert accuracy(matrix) == pytest.approx(metrics["test/acc"])  # the same predictions the test pass scored
    report = read_report(job_dir)
    assert report["class"].tolist() == [str(c) for c in range(10)] + ["macro avg", "weighted avg"]
    assert report.support.iloc[:10].sum() == TINY_TEST
    bins = read_calibration(job_dir)
    assert len(bins) == 15 and bins["count"].sum() == TINY_TEST


def test_tensorboard_has_the_confusion_matrix_reliability_and_misclassified_images(trained_job):
    job_dir, _ = trained_job
    tags = set()
    for event_file in job_dir.glob("events.out.tfevents.*"):
        events = EventAccumulator(str(event_file))
        events.Reload()
        tags.update(events.Tags()["images"])
    assert {"test/confusion_matrix", "test/reliability", "test/misclassified"} <= tags


def test_evaluate_cli_redoes_it_from_the_checkpoint_with_tsne(trained_job_copy, mnist_root, capsys):
    pytest.importorskip("openTSNE", reason='needs the [tsne] extra: pip install -e ".[tsne]"')
    job_dir, metrics = trained_job_copy  # the shared job copied: evaluate writes into it
    before = read_confusion(job_dir)
    (job_dir / "evaluation" / "confusion_matrix.csv").unlink()
    assert evaluate.main([str(job_dir), "--n", "60", "--data-root", str(mnist_root), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "macro avg" in printed and "expected calibration error" in printed and f"test accuracy {100 * metrics['test/acc']:.2f}%" in printed
    assert (read_confusion(job_dir) == before).all()  # the same weights, the same predictions
    table = pd.read_csv(job_dir / "evaluation" / "tsne.csv")
    assert len(table) == 60 and list(table.columns) == ["index", "label", "features_x", "features_y", "pixels_x", "pixels_y"]
    assert np.isfinite(table.drop(columns=["index", "label"]).to_numpy()).all()
    assert (job_dir / "evaluation" / "tsne.png").stat().st_size > 0


def test_evaluate_cli_bad_input_is_one_line_and_exit_2(tmp_path, mnist_root, trained_job, capsys):
    assert evaluate.main([str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'nowhere'}: no such job folder or checkpoint file"
    job_dir, _ = trained_job  # refused before anything is written
    assert evaluate.main([str(job_dir), "--n", str(TINY_TRAIN), "--data-root", str(mnist_root)]) == 2  # more than the 100 the split trains on
    assert "--n 120 is more than the 100 training images" in capsys.readouterr().err


def test_classification_report_by_hand():
    labels = [0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 1, 1, 1, 1]
    matrix = confusion_matrix(labels, predicted, num_classes=3)
    assert matrix.tolist() == [[2, 1, 0], [0, 2, 0], [0, 1, 0]]
    report = classification_report(labels, predicted, num_classes=3).set_index("class")
    assert report.loc["0", ["precision", "recall"]].tolist() == pytest.approx([1.0, 2 / 3])
    assert report.loc["1", ["precision", "recall", "f1"]].tolist() == pytest.approx([0.5, 1.0, 2 / 3])
    assert report.loc["2", ["precision", "recall", "f1"]].tolist() == [0.0, 0.0, 0.0]  # never predicted: 0, not NaN
    assert report.loc["macro avg", "recall"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert report.loc["weighted avg", "recall"] == pytest.approx(4 / 6)  # = accuracy
    assert accuracy(matrix) == pytest.approx(4 / 6)


def test_calibration_error_is_torchmetrics_multiclass_one_and_the_tables_average():
    from torchmetrics.functional.classification import multiclass_calibration_error

    generator = torch.Generator().manual_seed(0)
    probabilities = torch.softmax(3 * torch.randn(500, 10, generator=generator), dim=1)
    labels = torch.randint(0, 10, (500,), generator=generator)
    confidence, predicted = probabilities.max(1)
    right = (predicted == labels).numpy()
    error = expected_calibration_error(confidence.numpy(), right)
    assert error == pytest.approx(float(multiclass_calibration_error(probabilities, labels, 10, n_bins=15)), abs=1e-6)  # top-label = multiclass
    table = reliability_table(confidence.numpy(), right)
    assert table["count"].sum() == 500 and table.low.iloc[0] == 0 and table.high.iloc[-1] == 1
    gaps = (table.accuracy - table.confidence).abs().fillna(0)
    assert (table["count"] * gaps).sum() / 500 == pytest.approx(error, abs=1e-6)  # the diagram's bins are the error's
    assert expected_calibration_error([0.95] * 20, [1] * 19 + [0]) == pytest.approx(0.0, abs=1e-6)  # 95% sure, 95% right
    assert expected_calibration_error([0.9] * 10, [0] * 10) == pytest.approx(0.9)


@pytest.mark.parametrize("model, width", [("lenet", 84), ("lenet_keras", 120), ("mlp", 32), ("lenet5_1998", 84)])
def test_penultimate_features_are_the_output_layers_input(compose_config, model, width):
    _, module = build(compose_config(f"model={model}"))
    side = 28 + 2 * (2 if model in ("lenet", "lenet5_1998") else 0)
    assert penultimate_features(module.model.eval(), torch.rand(3, 1, side, side)).shape == (3, width)


def test_tsne_keeps_clusters_apart():
    pytest.importorskip("openTSNE", reason='needs the [tsne] extra: pip install -e ".[tsne]"')
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(150) % 5
    points = torch.randn(5, 40, generator=generator)[labels] * 4 + torch.randn(150, 40, generator=generator)
    embedded = torch.from_numpy(tsne(points, perplexity=10))
    assert embedded.shape == (150, 2) and torch.isfinite(embedded).all()
    distances = torch.cdist(embedded, embedded).fill_diagonal_(float("inf"))
    nearest = distances.topk(5, largest=False).indices
    assert (labels[nearest] == labels[:, None]).float().mean() > 0.95  # neighbours in the map are neighbours in the data
    assert np.array_equal(embedded.numpy(), tsne(points, perplexity=10))  # deterministic


def test_without_opentsne_evaluate_says_how_to_get_it(trained_job, mnist_root, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # an import of it now fails
    job_dir, _ = trained_job  # refused before anything is written
    assert evaluate.main([str(job_dir), "--n", "60", "--data-root", str(mnist_root)]) == 2
    assert capsys.readouterr().err.strip() == 'error: t-SNE maps need openTSNE: pip install -e ".[tsne]" (or --n 0 for none)'
