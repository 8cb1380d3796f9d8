"""The config's schema: types and ranges checked in one place, before anything is built.

Types are checked by Hydra while it composes the config (`epochs=ten` fails there, for every job
of a sweep before the first one starts); ranges by `validate`, which builds these dataclasses and so
runs their `__post_init__`. Unknown keys (`optimizer.learning_rate=0.1`) fail because Hydra's configs
are in struct mode. Model, optimizer, scheduler and trainer nodes stay open dictionaries: their
keys are the keyword arguments of whatever `_target_` names (add new ones with `++key=value`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import MissingMandatoryValue

from lenet_lab.data.pixels import NORMALIZATIONS
from lenet_lab.errors import UserError


def require(ok: bool, key: str, value: Any, rule: str) -> None:
    if not ok:
        raise UserError(f"{key}={value!r} {rule}")


def check_seed(seed: Any) -> None:
    require(isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32, "seed", seed, "must be a whole number in [0, 2**32)")


@dataclass
class DataSchema:
    _target_: str = "lenet_lab.data.mnist.MNISTDataModule"
    root: str = "data"
    download: bool = True
    val_size: int = 5000
    split_seed: int = 0
    shuffle_seed: int = 0
    normalize: str = "standard"
    pad: int = 0
    batch_size: int = 64
    eval_batch_size: int = 1000
    on_device: bool = True
    augment: bool = False
    batches_per_step: Optional[int] = None
    test_every_epoch: bool = False
    train_eval_every_epoch: bool = False

    def __post_init__(self):
        require(self.batch_size >= 1, "data.batch_size", self.batch_size, "must be at least 1")
        require(self.eval_batch_size >= 1, "data.eval_batch_size", self.eval_batch_size, "must be at least 1")
        require(0 <= self.val_size < 60_000, "data.val_size", self.val_size, "must be in [0, 59999]")
        require(self.pad >= 0, "data.pad", self.pad, "must be 0 or more")
        require(self.batches_per_step is None or self.batches_per_step >= 1, "data.batches_per_step", self.batches_per_step, "must be at least 1 (or null)")
        require(self.normalize in NORMALIZATIONS, "data.normalize", self.normalize, f"must be one of {', '.join(NORMALIZATIONS)}")


@dataclass
class RunSchema:
    data: DataSchema = field(default_factory=DataSchema)
    model: dict[str, Any] = MISSING
    optimizer: dict[str, Any] = MISSING
    lr_scheduler: Optional[dict[str, Any]] = None
    trainer: dict[str, Any] = MISSING
    logger: dict[str, Any] = MISSING
    epochs: int = 10
    seed: int = 1
    threads: Any = "auto"  # a number, null or "auto": lenet_lab/config/threads.py
    callbacks: Optional[dict[str, Any]] = None  # conf/callbacks/: name -> a Lightning callback
    test_on: str = "last"  # the weights the test set sees: last (as training left them) or best (callbacks=checkpoint_best)
    tags: list[str] = field(default_factory=list)  # labels for the job: HParams, MLflow tags, results.csv
    # A job of a sweep file (sweeps/*.yaml): {name: the sweep, row: the table row it reproduces}.
    sweep: Optional[dict[str, Any]] = None

    def __post_init__(self):
        require(self.epochs >= 1, "epochs", self.epochs, "must be at least 1")
        check_seed(self.seed)
        require(self.threads in (None, "auto") or (type(self.threads) is int and self.threads >= 1), "threads", self.threads, "must be auto, null or a whole number at least 1")
        require(self.test_on in ("last", "best"), "test_on", self.test_on, "must be last or best")
        callbacks = {name: node for name, node in (self.callbacks or {}).items() if node}
        best = [name for name, node in callbacks.items() if str(node.get("_target_", "")).endswith("ModelCheckpoint")]
        require(self.test_on == "last" or bool(best), "test_on", self.test_on, "needs a best checkpoint: add callbacks=checkpoint_best")
        for name, node in callbacks.items():
            watches = str(node.get("monitor") or "")
            require(not watches.startswith("val/") or self.data.val_size > 0, f"callbacks.{name}.monitor", watches, "needs a validation set (data.val_size > 0)")
        for name, node in (self.logger or {}).items():  # said before a sweep's first job, not by each job
            if node and str(node.get("_target_", "")).endswith("MLFlowLogger"):
                require(importlib.util.find_spec("mlflow") is not None, "logger", name, 'needs MLflow: pip install -e ".[mlflow]"')
        lr = self.optimizer.get("lr")
        require(isinstance(lr, (int, float)) and lr > 0, "optimizer.lr", lr, "must be a number above 0")


def register() -> None:
    """Make `run_schema` available to config.yaml's defaults list."""
    ConfigStore.instance().store(name="run_schema", node=RunSchema)


def validate(cfg: DictConfig) -> None:
    """Raise UserError on the first value out of range, or left to be set (`???`)."""
    try:
        OmegaConf.to_object(cfg)
    except MissingMandatoryValue as error:
        raise UserError(f"{error.full_key} must be set (e.g. {error.full_key}=...)") from error
