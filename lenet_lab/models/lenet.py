"""LeNet-5 as it is commonly written today, and the variants the reference write-ups used.

    input 1@32x32 (MNIST padded by 2, or 28x28 with conv1_padding=2 as in the Keras tutorial)
    conv 6@5x5 -> act -> pool 2   6@14x14
    conv 16@5x5 -> act -> pool 2  16@5x5
    dense 120 -> act [-> dense 84 -> act] -> dense 10 (logits)

Defaults (ReLU, max pooling, 120-84-10) have 61,706 parameters. The 1998 network (partial C3,
trainable subsampling, RBF output) is a different model.
"""

from collections.abc import Sequence

from torch import nn

from lenet_lab.models.layers import ACTIVATIONS, POOLS, choose


class LeNet5(nn.Module):
    def __init__(
        self,
        num_classes: int = 10,
        activation: str = "relu",
        pool: str = "max",
        hidden: Sequence[int] = (120, 84),
        conv1_padding: int = 0,
    ):
        super().__init__()
        act = choose(ACTIVATIONS, activation, "activation")
        pool_layer = choose(POOLS, pool, "pooling")
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=conv1_padding), act(), pool_layer(2),
            nn.Conv2d(6, 16, 5), act(), pool_layer(2),
            nn.Flatten(),
        )  # fmt: skip
        layers, width = [], 16 * 5 * 5
        for size in hidden:
            layers += [nn.Linear(width, size), act()]
            width = size
        self.classifier = nn.Sequential(*layers, nn.Linear(width, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
