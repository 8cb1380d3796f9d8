"""hydra.sweeper.pruner -> an Optuna pruner: `median`, `hyperband`, null (none) or a `_target_` node.

The sweeper and every job build the same one: pruners are not kept in the storage, and it is the
job that asks, after each epoch, whether its trial should stop.
"""

from __future__ import annotations

from typing import Any

from lenet_lab.errors import UserError


def named(name: str):
    import optuna

    # Median: stop a trial whose val/acc after an epoch is below the median of earlier trials'
    # after the same epoch, once 5 trials have finished (before that, a median says little).
    # Hyperband: successive halving over epochs, brackets from the first finished trial's length.
    pruners = {"median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5), "hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1)}
    if name not in pruners:
        raise UserError(f"hydra.sweeper.pruner={name}: unknown; use median, hyperband, null, or a node with _target_ (an optuna.pruners class)")
    return pruners[name]()


def build_pruner(setting: Any):
    """The setting as the config holds it (or as Hydra instantiated it) -> a pruner, None for none."""
    from hydra.utils import instantiate
    from omegaconf import DictConfig

    if setting is None or setting in ("none", "null"):
        return None
    if isinstance(setting, str):
        return named(setting)
    if isinstance(setting, (dict, DictConfig)):
        return instantiate(setting)
    return setting  # already a pruner
