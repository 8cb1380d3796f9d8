"""The divergence check: every step on one CPU, every few steps elsewhere, and all processes together."""

from types import SimpleNamespace

import pytest
import torch

from lenet_lab.training.divergence import Diverged, DivergenceGuard


def trainer(step: int, world_size: int = 1, others_diverged: bool = False):
    decisions = []

    def reduce_boolean_decision(decision: bool, all: bool = True) -> bool:
        decisions.append(decision)
        return decision or others_diverged  # any process, as all=False asks

    strategy = SimpleNamespace(reduce_boolean_decision=reduce_boolean_decision)
    return SimpleNamespace(global_step=step, world_size=world_size, current_epoch=0, strategy=strategy), decisions


def test_a_nan_loss_stops_a_single_cpu_job_at_once():
    guard = DivergenceGuard(accelerator_every=25)
    fake, _ = trainer(step=7)
    with pytest.raises(Diverged, match="nan at epoch 1, step 7"):
        guard.on_train_batch_end(fake, None, torch.tensor(float("nan")), None, 0)
    guard.on_train_batch_end(fake, None, {"loss": torch.tensor(1.0)}, None, 0)  # a number: nothing happens


def test_several_processes_stop_together_when_any_diverged():
    guard = DivergenceGuard(accelerator_every=25)
    fake, decisions = trainer(step=50, world_size=2, others_diverged=True)
    with pytest.raises(Diverged):  # this process's loss is fine; another's is not
        guard.on_train_batch_end(fake, None, torch.tensor(1.0), None, 0)
    assert decisions == [False]
    fake, decisions = trainer(step=51, world_size=2, others_diverged=True)
    guard.on_train_batch_end(fake, None, torch.tensor(float("nan")), None, 0)  # not a checking step: no sync
    assert decisions == []


def test_grouped_steps_check_every_n_optimizer_steps(compose_config, tmp_path):
    """The accelerator cadence forced on a CPU: a NaN inside a group of 100 steps stops the job
    within 25 steps, not at the group's end (where global_step jumps by the group's size)."""
    from lenet_lab.training.train import train

    cfg = compose_config("optimizer=sgd", "optimizer.lr=1e8", "data.batch_size=1", "data.batches_per_step=100", "epochs=3", "threads=1")
    metrics = train(cfg, tmp_path, extra_callbacks=[DivergenceGuard(every=25)])
    assert metrics["status"] == "diverged"
    step = int(metrics["error"].rsplit("step ", 1)[1])
    assert step == 25, metrics["error"]  # lr 1e8 makes the loss NaN within a few steps; the first check is at 25
    assert metrics["epochs"] == 0


def test_the_guard_leaves_grouped_steps_to_their_own_check():
    guard = DivergenceGuard(every=1)
    fake, _ = trainer(step=7)
    guard.on_train_batch_end(fake, SimpleNamespace(automatic_optimization=False), torch.tensor(float("nan")), None, 0)  # no raise
