"""A trial of a search with a pruner reports val/acc after each epoch, and stops when its study says so.

The sweeper (hydra_plugins/lenet_lab/search_sweeper.py) gives each trial's job its study and trial
in the job's Hydra config (`hydra.sweeper.storage`, `.study_name`, `.trial`: the trial's id); the
job, in whatever process a launcher runs it, opens the study there and reports through
optuna-integration's Lightning callback. A pruned trial ends as its own status (train.py): not a
failure, not a result.
"""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback


class Pruned(Exception):
    """The search stopped this trial early: its val/acc after an epoch was not promising."""

    def __init__(self, message: str, epochs: int = 0):
        super().__init__(message)
        # Validation ends before the epoch does: the epoch that was just validated counts as trained.
        self.epochs = epochs


class PruneTrial(Callback):
    """optuna-integration's callback, its TrialPruned turned into Pruned (train.py knows no Optuna)."""

    def __init__(self, trial, monitor: str):
        from optuna_integration import PyTorchLightningPruningCallback

        self.inner = PyTorchLightningPruningCallback(trial, monitor=monitor)

    def on_fit_start(self, trainer, pl_module) -> None:
        self.inner.on_fit_start(trainer, pl_module)

    def on_validation_end(self, trainer, pl_module) -> None:
        import optuna

        try:
            self.inner.on_validation_end(trainer, pl_module)
        except optuna.TrialPruned as error:
            # Optuna counts epochs from 0 ("pruned at epoch 0"); the epoch lines and tables from 1.
            value = float(trainer.callback_metrics[self.inner.monitor])
            epochs = trainer.current_epoch + 1
            raise Pruned(f"stopped after epoch {epochs} of {trainer.max_epochs}: {self.inner.monitor} {value:.4f}", epochs) from error


def trial_callbacks(hydra_cfg) -> list[Callback]:
    """[PruneTrial] for a trial of a search that prunes (its job's Hydra config says which), else []."""
    sweeper = hydra_cfg.get("sweeper") or {}
    trial_id, setting = sweeper.get("trial"), sweeper.get("pruner")
    if trial_id is None or setting is None:
        return []
    import optuna

    from lenet_lab.studies.pruners import build_pruner
    from lenet_lab.studies.storage import open_storage

    study = optuna.load_study(study_name=sweeper.study_name, storage=open_storage(sweeper.storage), pruner=build_pruner(setting))
    return [PruneTrial(optuna.trial.Trial(study, trial_id), monitor=sweeper.get("monitor") or "val/acc")]
