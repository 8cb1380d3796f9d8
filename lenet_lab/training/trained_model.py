"""A finished job's model back from disk: its checkpoint's weights in the model its config builds.

Only the config's model node is built (and evaluate and predict read `data.normalize`/`data.pad`):
a job folder saved under module paths that have since moved (the data, optimizer and scheduler
nodes of a config from before the layout by stage) loads without them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from lenet_lab import job_folder
from lenet_lab.errors import UserError, one_line
from lenet_lab.job_folder import CHECKPOINT
from lenet_lab.training.train import build_model

MODULE_PREFIX = "model."


@dataclass
class TrainedModel:
    model: torch.nn.Module  # in eval mode, on the CPU
    cfg: DictConfig  # the run's config, as it trained
    job_dir: Path
    checkpoint: Path


def checkpoint_path(path: str | Path) -> Path:
    """A job folder -> the checkpoint its test saw (best.ckpt with test_on=best); a checkpoint file -> itself."""
    path = Path(path)
    if path.is_dir():
        checkpoint = job_folder.tested_checkpoint(path)
        if not checkpoint.is_file():
            raise UserError(f"{path} has no {CHECKPOINT}: not a job folder, or the job never finished an epoch")
        return checkpoint
    if path.is_file():
        return path
    raise UserError(f"{path}: no such job folder or checkpoint file")


def run_config(checkpoint: dict, job_dir: Path) -> DictConfig:
    """The config the checkpoint carries; for a checkpoint without one, the job's .hydra/config.yaml."""
    if checkpoint.get("config"):
        return OmegaConf.create(checkpoint["config"])
    saved = job_folder.recorded_config(job_dir)
    if saved:
        return OmegaConf.create(saved)
    raise UserError(f"the checkpoint carries no config and {job_folder.config_file(job_dir)} is missing: cannot tell which model it holds")


def load_trained(path: str | Path) -> TrainedModel:
    """JOB_DIR or a checkpoint file -> the trained model, ready to predict. UserError if it can't be."""
    checkpoint_file = checkpoint_path(path)
    try:
        # weights_only: a checkpoint is data, never code to unpickle.
        checkpoint = torch.load(checkpoint_file, map_location="cpu", weights_only=True)
    except Exception as error:
        raise UserError(f"{checkpoint_file} is not a readable checkpoint: {one_line(error)}") from error
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise UserError(f"{checkpoint_file} is not a Lightning checkpoint (no state_dict)")
    job_dir = job_folder.job_dir_of_checkpoint(checkpoint_file)
    cfg = run_config(checkpoint, job_dir)
    model = build_model(cfg.model)  # the same code that built it for training, so the layers match
    # The LightningModule holds the network as `model`: its weights are the state_dict's model.* entries.
    weights = {name[len(MODULE_PREFIX) :]: value for name, value in checkpoint["state_dict"].items() if name.startswith(MODULE_PREFIX)}
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        raise UserError(f"{checkpoint_file} does not fit the model its config describes: {one_line(error)}") from error
    return TrainedModel(model.eval(), cfg, job_dir, checkpoint_file)


@torch.no_grad()
def scores_of(model: torch.nn.Module, inputs: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The model's class scores [N, classes] for network inputs [N, 1, H, W], in batches."""
    device = next(model.parameters()).device
    return torch.cat([model(inputs[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(inputs), batch_size)])
