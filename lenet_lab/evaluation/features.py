"""What a classifier has made of its input just before deciding: its penultimate-layer features."""

from __future__ import annotations

import torch
from torch import nn


def output_layer(model: nn.Module) -> nn.Module:
    """The layer that turns features into class scores: the last one the model registers.

    True of every model in `lenet_lab.models`: LeNet's and the MLP's final Linear, ResNet-18's
    `fc`, the 1998 LeNet-5's RBF `output`. Its input is the penultimate layer (84 units in LeNet-5,
    32 in the MLP, 512 in ResNet-18), after the activation.
    """
    leaves = [m for m in model.modules() if not list(m.children())]
    if not leaves:
        raise ValueError(f"{type(model).__name__} has no layers")
    return leaves[-1]


@torch.no_grad()
def penultimate_features(model: nn.Module, inputs: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """float [N, features]: the input of the model's output layer for each of `inputs` [N, 1, H, W]."""
    caught: list[torch.Tensor] = []
    hook = output_layer(model).register_forward_pre_hook(lambda module, args: caught.append(args[0].detach().flatten(1).float().cpu()))
    device = next(model.parameters()).device
    try:
        for start in range(0, len(inputs), batch_size):
            model(inputs[start : start + batch_size].to(device))
    finally:
        hook.remove()
    return torch.cat(caught)
