"""The debug group, each end to end on tiny data: fdr, overfit, limit, profiler."""

import lightning.pytorch as pl
import pytest

from lenet_lab.job_folder import FAST_DEV_RUN, read_metrics
from lenet_lab.reports.events import read_curves
from lenet_lab.training.train import train

FAST = ("model=mlp", "threads=1")

class TrainBatches(pl.Callback):
    """The labels of every training batch, per epoch."""

    def __init__(self):
        self.epochs = []

    def on_train_epoch_start(self, trainer, pl_module):
        self.epochs.append([])

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.epochs[-1].append(batch[1].tolist())


@pytest.mark.parametrize("override", ["debug=fdr", "++trainer.fast_dev_run=true"])
def test_fast_dev_run_runs_one_batch_and_leaves_nothing_that_looks_like_a_result(compose_config, tmp_path, override):
    batches = TrainBatches()
    metrics = train(compose_config(*FAST, override, "callbacks=[checkpoint_best]", "test_on=best"), tmp_path, extra_callbacks=[batches])
    assert metrics["status"] == FAST_DEV_RUN == read_metrics(tmp_path)["status"]
    assert not any(isinstance(v, float) for v in metrics.values())  # no accuracy to mistake for one
    assert [len(epoch) for epoch in batches.epochs] == [1]
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers == ["metrics.json"], leftovers  # no events, checkpoints, evaluation


def test_overfit_trains_the_same_batches_every_epoch_to_100_percent(compose_config, tmp_path):
    batches = TrainBatches()
    metrics = train(compose_config(*FAST, "debug=overfit", "epochs=30", "data.batch_size=8", "optimizer.lr=0.01"), tmp_path, extra_callbacks=[batches])
    assert len(batches.epochs) == 30 and all(len(epoch) == 3 for epoch in batches.epochs)
    assert all(epoch == batches.epochs[0] for epoch in batches.epochs)  # same batches, same order
    assert metrics["train/acc"] == 1.0


def test_limit_runs_a_few_batches_of_each_split_for_two_epochs(compose_config, tmp_path):
    batches = TrainBatches()
    metrics = train(compose_config(*FAST, "debug=limit", "data.batch_size=8", "data.eval_batch_size=4"), tmp_path, extra_callbacks=[batches])
    assert metrics["status"] == "completed" and metrics["epochs"] == 2
    assert [len(epoch) for epoch in batches.epochs] == [5, 5]
    assert "support" in (tmp_path / "evaluation" / "classification_report.csv").read_text()
    report = (tmp_path / "evaluation" / "classification_report.csv").read_text()
    assert ",8" in report.splitlines()[-1] or "8.0" in report.splitlines()[-1]  # 2 test batches of 4 digits
    curves, _ = read_curves(tmp_path)
    assert sorted(curves[curves.tag == "val/acc"].epoch) == [1, 2]


def test_profiler_report_is_saved_in_the_job_folder(compose_config, tmp_path):
    train(compose_config(*FAST, "debug=profiler", "epochs=1"), tmp_path)
    report = (tmp_path / "fit-profiler.txt").read_text()
    assert "run_training_epoch" in report and "Action" in report
    assert (tmp_path / "test-profiler.txt").is_file()
