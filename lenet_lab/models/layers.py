"""Choices shared by the models' constructors: activations and pooling by name."""

from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def choose(options: dict, name: str, what: str):
    if name not in options:
        raise ValueError(f"unknown {what} {name!r}; choose one of {', '.join(options)}")
    return options[name]
