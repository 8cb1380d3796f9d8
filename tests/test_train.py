"""One job end to end on tiny data: training, the job's files, what TensorBoard will show."""

import json

import lightning.pytorch as pl
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from lenet_lab.training.train import train
from tests.conftest import compose_tiny, skip_figures

EPOCHS = 2  # conftest's trained_job: the default LeNet, 2 epochs at a constant rate of 0.01 (the lr curve is known)

# One torch thread: two would spin against each other (and the other work) on a small shared machine.
ONE_THREAD = "threads=1"

# The jobs trained here are tested, and no test here looks at their figures (tests/test_evaluate.py does).

def scalars(job_dir) -> dict[str, list[tuple[int, float]]]:
    values = {}
    for event_file in sorted(job_dir.glob("events.out.tfevents.*")):
        events = EventAccumulator(str(event_file), size_guidance={"scalars": 0})
        events.Reload()
        for tag in events.Tags()["scalars"]:
            values.setdefault(tag, []).extend((e.step, e.value) for e in events.Scalars(tag))
    return values


def test_metrics_json_is_the_jobs_result(trained_job):
    job_dir, returned = trained_job
    written = json.loads((job_dir / "metrics.json").read_text())
    assert written == pytest.approx(returned)
    assert written["status"] == "completed"
    assert written["epochs"] == EPOCHS
    assert written["num_params"] == 61_706
    assert written["train_time_s"] > 0
    for name in ("train/acc", "val/acc", "test/acc"):
        assert 0.0 <= written[name] <= 1.0
    assert written["test/loss"] > 0
    # The synthetic digits are easy: two epochs learn them, so the numbers are real, not defaults.
    assert written["test/acc"] > 0.5


def test_tensorboard_has_every_epoch_of_every_metric(trained_job):
    job_dir, metrics = trained_job
    logged = scalars(job_dir)
    for tag in ("train/loss", "train/acc", "val/loss", "val/acc", "lr"):
        assert len(logged[tag]) == EPOCHS, tag
    assert [value for _, value in logged["lr"]] == pytest.approx([0.01] * EPOCHS)
    assert len(logged["test/acc"]) == 1
    assert logged["test/acc"][0][1] == pytest.approx(metrics["test/acc"])
    assert logged["val/acc"][-1][1] == pytest.approx(metrics["val/acc"])


def test_hparams_tab_lists_config_and_final_metrics(trained_job):
    job_dir, _ = trained_job
    found = {}
    for event_file in job_dir.glob("events.out.tfevents.*"):
        events = EventAccumulator(str(event_file))
        events.Reload()
        try:
            found.update(events.PluginTagToContent("hparams"))
        except KeyError:  # this event file holds scalars only
            pass
    assert "_hparams_/experiment" in found and "_hparams_/session_start_info" in found
    start = plugin_data_pb2.HParamsPluginData.FromString(found["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["optimizer.lr"].number_value == pytest.approx(0.01)
    assert start.hparams["model._target_"].string_value == "lenet_lab.models.lenet.LeNet5"
    experiment = plugin_data_pb2.HParamsPluginData.FromString(found["_hparams_/experiment"]).experiment
    assert {m.name.tag for m in experiment.metric_infos} >= {"test/acc", "val/acc", "train/acc"}


def test_one_checkpoint_carrying_its_config(trained_job):
    job_dir, _ = trained_job
    checkpoints = list(job_dir.rglob("*.ckpt"))
    assert [c.name for c in checkpoints] == ["last.ckpt"]
    checkpoint = torch.load(checkpoints[0], map_location="cpu", weights_only=True)
    assert checkpoint["config"]["model"]["_target_"] == "lenet_lab.models.lenet.LeNet5"
    assert checkpoint["epoch"] == EPOCHS - 1


def test_val_size_zero_trains_on_everything_without_validation(compose_config, tmp_path):
    cfg = compose_config(ONE_THREAD, "data.val_size=0", "data.batch_size=16", "epochs=1")
    metrics = train(cfg, tmp_path)
    assert metrics["status"] == "completed" and "val/acc" not in metrics
    assert "val/acc" not in scalars(tmp_path) and len(scalars(tmp_path)["train/acc"]) == 1


class StepCounter(pl.Callback):
    """Listens to the hooks around each optimizer step, so Lightning must call them for every one."""

    def __init__(self):
        self.calls = {"on_after_backward": 0, "on_before_optimizer_step": 0}

    def on_after_backward(self, trainer, pl_module):
        self.calls["on_after_backward"] += 1

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.calls["on_before_optimizer_step"] += 1


@pytest.fixture(scope="module")
def grouped_runs(tmp_path_factory, mnist_root):
    """One training three ways: batch by batch, in groups of 3 (quiet), in groups of 3 with a StepCounter listening.
    name -> (metrics, checkpoint, scalars, StepCounter or None)."""
    runs = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        skip_figures(monkeypatch)
        for name, per_step, counter in [("one", 1, None), ("three", 3, None), ("listened", 3, StepCounter())]:
            cfg = compose_tiny(  # 80 training images: 13 batches of 6 and one of 2, tallied by group too
                mnist_root, ONE_THREAD, "data.batch_size=6", f"data.batches_per_step={per_step}", "epochs=2",
                "optimizer=momentum", "optimizer.lr=0.05", "lr_scheduler=step", "lr_scheduler.step_size=1",
            )  # fmt: skip
            job_dir = tmp_path_factory.mktemp(name)
            metrics = train(cfg, job_dir, extra_callbacks=[counter] if counter else ())
            checkpoint = torch.load(job_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
            runs[name] = metrics, checkpoint, scalars(job_dir), counter
    return runs


def test_several_batches_per_step_make_the_same_updates_as_one(grouped_runs):
    # Grouping batches into one Lightning step (manual optimization) is a speed-up only: the same
    # optimizer steps on the same batches in the same order, the scheduler still stepped per epoch.
    (one, one_ckpt, one_logged, _), (three, three_ckpt, three_logged, _) = grouped_runs["one"], grouped_runs["three"]
    assert one_ckpt["global_step"] == three_ckpt["global_step"] > 0  # optimizer steps, not Lightning steps
    for name, weight in one_ckpt["state_dict"].items():
        torch.testing.assert_close(three_ckpt["state_dict"][name], weight, msg=name)
    assert three["train/loss"] == pytest.approx(one["train/loss"]) and three["test/acc"] == one["test/acc"]
    assert three["train/acc"] == one["train/acc"]
    assert [v for _, v in three_logged["train/loss"]] == pytest.approx([v for _, v in one_logged["train/loss"]])
    assert [v for _, v in three_logged["lr"]] == pytest.approx([v for _, v in one_logged["lr"]])
    assert len({v for _, v in one_logged["lr"]}) == 2  # the schedule did change the rate


def test_grouped_steps_call_step_hooks_for_whoever_listens(grouped_runs):
    # Without listeners the grouped loop skips Lightning's backward and step wrappers (speed);
    # with one, every optimizer step goes through them, and the updates are the same either way.
    (_, quiet, _, _), (_, listened, _, counter) = grouped_runs["three"], grouped_runs["listened"]
    steps = listened["global_step"]
    assert steps == quiet["global_step"] > 3
    assert counter.calls == {"on_after_backward": steps, "on_before_optimizer_step": steps}
    for name, weight in quiet["state_dict"].items():
        torch.testing.assert_close(listened["state_dict"][name], weight, msg=name)


def test_sdlm_running_curvature_updates_every_n_optimizer_steps_grouped_or_not(compose_config, tmp_path, monkeypatch):
    from lenet_lab.optim.sdlm import SDLM

    runs, original = {}, SDLM.update_running_curvature
    for per_step in (1, 3):
        calls = []
        monkeypatch.setattr(SDLM, "update_running_curvature", lambda self, *args, **kw: calls.append(1) or original(self, *args, **kw))
        cfg = compose_config(ONE_THREAD, "optimizer=sdlm", "optimizer.running_every=2", "optimizer.curvature_samples=20", "data.batch_size=6", f"data.batches_per_step={per_step}", "epochs=1")
        train(cfg, tmp_path / str(per_step))
        checkpoint = torch.load(tmp_path / str(per_step) / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
        assert len(calls) == checkpoint["global_step"] // 2 > 0  # counted in optimizer steps, grouped or not
        runs[per_step] = checkpoint["state_dict"]
    for name, weight in runs[1].items():  # the same images and probes either way: the same training
        torch.testing.assert_close(runs[3][name], weight, msg=name)


@pytest.mark.parametrize(
    "limit, optimizer_steps",
    [("++trainer.max_steps=5", 5), ("++trainer.limit_train_batches=2", 2 * 2), ("++trainer.limit_train_batches=1", 1 * 2)],
)
def test_step_limits_count_batches_also_when_batches_are_grouped(compose_config, tmp_path, limit, optimizer_steps):
    # Lightning counts Lightning steps; a user asking for 5 steps or 2 batches an epoch means batches.
    cfg = compose_config(ONE_THREAD, "data.batch_size=8", "data.batches_per_step=3", "epochs=2", limit)
    train(cfg, tmp_path)
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == optimizer_steps

@pytest.mark.parametrize("val_size", [20, 0])
def test_test_every_epoch_gives_a_test_curve_beside_validation(compose_config, tmp_path, val_size):
    cfg = compose_config(ONE_THREAD, f"data.val_size={val_size}", "data.test_every_epoch=true", "data.batch_size=16", "epochs=2")
    metrics = train(cfg, tmp_path)
    logged = scalars(tmp_path)
    assert len(logged["test/acc"]) == 2 + 1  # after each epoch, and the final test
    assert logged["test/acc"][-1][1] == pytest.approx(logged["test/acc"][-2][1]) == pytest.approx(metrics["test/acc"])
    assert len(logged.get("val/acc", [])) == (2 if val_size else 0)


def test_a_compiled_model_trains_and_its_checkpoint_loads_uncompiled(compose_config, tmp_path, monkeypatch):
    from lenet_lab.training.trained_model import load_trained

    # TorchDynamo traces the model as with any backend; "eager" runs the captured graph instead of
    # generating code for it (inductor's compilation: ~30 s of CPU, nothing this test looks at).
    compiled, compile_ = [], torch.nn.Module.compile
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, **kwargs: (compiled.append(self), compile_(self, backend="eager", **kwargs))[1])
    cfg = compose_config(ONE_THREAD, "model.compile=true", "data.batch_size=16", "epochs=1")
    metrics = train(cfg, tmp_path)
    assert metrics["status"] == "completed"
    (model,) = compiled
    assert model._compiled_call_impl is not None  # trained compiled
    weights = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    assert "model.features.0.weight" in weights and not any("_orig_mod" in name for name in weights)  # names as without compile
    model = load_trained(tmp_path).model
    assert not hasattr(model, "_compiled_call_impl") or model._compiled_call_impl is None  # predict and evaluate don't compile


def test_train_eval_measures_every_training_image_after_each_pass(compose_config, tmp_path):
    from hydra.utils import instantiate

    from lenet_lab.training.trained_model import load_trained

    cfg = compose_config(ONE_THREAD, "data.train_eval_every_epoch=true", "data.augment=true", "data.batch_size=16", "epochs=2", "lr_scheduler=none")
    metrics = train(cfg, tmp_path)
    curves = scalars(tmp_path)
    assert [step for step, _ in curves["train_eval/acc"]] == [step for step, _ in curves["val/acc"]]  # after every epoch
    datamodule = instantiate(cfg.data)
    datamodule.setup("fit")
    images, labels = datamodule.splits["train"]
    model = load_trained(tmp_path).model  # the weights after the last pass, no distortions
    with torch.no_grad():
        accuracy = (model(images.cpu()).argmax(1) == labels.cpu()).float().mean().item()
    assert curves["train_eval/acc"][-1][1] == pytest.approx(accuracy, abs=1e-6)
    assert metrics["status"] == "completed" and metrics["train_eval/acc"] == pytest.approx(accuracy, abs=1e-6)  # the job's own record
