"""sweeps/*.yaml as the options of the config group `sweep`: `python run.py -m +sweep=lenet_optimizers`.

Registered by lenet_lab.startup, as the run schema is, so that only the project's entry points have
the group: registered from hydra_plugins/ (Hydra imports every module there in every Hydra
application), every other Hydra application of the environment listed it among its config groups.
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

SWEEPS_DIR = Path(__file__).resolve().parents[2] / "sweeps"


def register(directory: Path = SWEEPS_DIR) -> None:
    """sweeps/<name>.yaml -> option <name> of the group `sweep`, merged at the top of the config."""
    for path in sorted(directory.glob("*.yaml")):
        ConfigStore.instance().store(group="sweep", name=path.stem, node=OmegaConf.load(path), package="_global_", provider="lenet_lab")
