"""A multi-layer perceptron on the flattened image: 784-128-32-10 (104,938 parameters) by default."""

from collections.abc import Sequence

from torch import nn

from lenet_lab.models.layers import ACTIVATIONS, choose


class MLP(nn.Module):
    def __init__(
        self,
        num_classes: int = 10,
        in_features: int = 28 * 28,
        hidden: Sequence[int] = (128, 32),
        activation: str = "relu",
    ):
        super().__init__()
        act = choose(ACTIVATIONS, activation, "activation")
        layers, width = [nn.Flatten()], in_features
        for size in hidden:
            layers += [nn.Linear(width, size), act()]
            width = size
        self.net = nn.Sequential(*layers, nn.Linear(width, num_classes))

    def forward(self, x):
        return self.net(x)
