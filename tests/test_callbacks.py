"""The callbacks group: early stopping, the best checkpoint and which weights are tested, rich's bar."""

import re

import pytest
import torch

from lenet_lab import evaluate
from lenet_lab.errors import UserError
from lenet_lab.job_folder import BEST_CHECKPOINT, CHECKPOINT, read_metrics
from lenet_lab.reports.events import read_curves
from lenet_lab.training.train import train
from lenet_lab.training.trained_model import checkpoint_path

FAST = ("model=mlp", "optimizer.lr=0.01", "threads=1")

def test_early_stopping_stops_and_says_when(compose_config, tmp_path):
    # With the best epoch tested too: testing from best.ckpt must not bring back early stopping's state of that epoch.
    metrics = train(compose_config(*FAST, "epochs=20", "callbacks=[early_stopping,checkpoint_best]", "callbacks.early_stopping.patience=1", "test_on=best"), tmp_path)
    assert metrics["status"] == "completed"
    assert metrics["stopped_epoch"] is not None and metrics["epochs"] == metrics["stopped_epoch"] < 20
    assert read_metrics(tmp_path)["stopped_epoch"] == metrics["stopped_epoch"]
    curves, _ = read_curves(tmp_path)
    assert curves[curves.tag == "val/acc"].epoch.max() == metrics["stopped_epoch"]


def test_best_checkpoint_is_kept_beside_the_last_and_tested_when_asked(compose_config, tmp_path, mnist_root, capsys):
    metrics = train(compose_config(*FAST, "epochs=4", "optimizer.lr=0.05", "callbacks=[checkpoint_best,early_stopping]", "callbacks.early_stopping.patience=10", "test_on=best"), tmp_path)
    assert (tmp_path / CHECKPOINT).is_file() and (tmp_path / BEST_CHECKPOINT).is_file()
    assert sorted(p.name for p in (tmp_path / CHECKPOINT).parent.iterdir()) == ["best.ckpt", "last.ckpt"]
    curves, _ = read_curves(tmp_path)
    val = curves[curves.tag == "val/acc"].reset_index(drop=True)
    assert metrics["test_on"] == "best" and metrics["tested_epoch"] == int(val.epoch[val.value.idxmax()])  # the first best epoch
    assert torch.load(tmp_path / BEST_CHECKPOINT, weights_only=True)["epoch"] + 1 == metrics["tested_epoch"]
    assert metrics["stopped_epoch"] is None  # ran every epoch
    # evaluate (and predict) load the weights the test saw, so they score as metrics.json says
    assert checkpoint_path(tmp_path) == tmp_path / BEST_CHECKPOINT
    assert evaluate.main([str(tmp_path), "--n", "0", "--data-root", str(mnist_root)]) == 0
    measured, recorded = re.search(r"test accuracy ([\d.]+)% \(metrics.json: ([\d.]+)%\)", capsys.readouterr().out).groups()
    assert measured == recorded


def test_test_on_best_needs_the_best_checkpoint_and_a_validation_set(compose_config, tmp_path):
    with pytest.raises(UserError, match="callbacks=checkpoint_best"):
        train(compose_config(*FAST, "test_on=best"), tmp_path)
    with pytest.raises(UserError, match="needs a validation set"):
        train(compose_config(*FAST, "callbacks=early_stopping", "data.val_size=0"), tmp_path)


def test_rich_progress_bar_replaces_the_epoch_line(compose_config, tmp_path, capsys):
    metrics = train(compose_config(*FAST, "epochs=1", "callbacks=rich"), tmp_path, label="job")
    assert metrics["status"] == "completed" and "test_on" not in metrics
    assert "epoch 1/1" not in capsys.readouterr().out  # the bar instead of the line
