"""LeNet-5 as it is commonly written today, and the variants the reference write-ups used.

    input 1@32x32 (MNIST padded by 2, or 28x28 with conv1_padding=2 as in the Keras tutorial)
    conv 6@5x5 -> act -> pool 2   6@14x14    (channels: [6, 16])
    conv 16@5x5 -> act -> pool 2  16@5x5
    dense 120 -> act [-> dense 84 -> act] -> dense 10 (logits)

Defaults (ReLU, max pooling, 120-84-10) have 61,706 parameters; `batch_norm` (after each
convolution, whose bias it replaces) adds 22, `dropout` (before each hidden dense layer) none. The 1998 network (partial C3,
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
        channels: Sequence[int] = (6, 16),
        conv1_padding: int = 0,
        batch_norm: bool = False,
        dropout: float = 0.0,
    ):
        super().__init__()
        act = choose(ACTIVATIONS, activation, "activation")
        pool_layer = choose(POOLS, pool, "pooling")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout {dropout!r} must be in [0, 1)")

        def normed(channels: int) -> list[nn.Module]:
            # Batch norm after each convolution: its shift makes the convolution's bias redundant (+2 per channel, -1 bias).
            return [nn.BatchNorm2d(channels)] if batch_norm else []

        first, second = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, first, 5, padding=conv1_padding, bias=not batch_norm), *normed(first), act(), pool_layer(2),
            nn.Conv2d(first, second, 5, bias=not batch_norm), *normed(second), act(), pool_layer(2),
            nn.Flatten(),
        )  # fmt: skip
        layers, width = [], second * 5 * 5
        for size in hidden:
            layers += [nn.Dropout(dropout)] if dropout else []
            layers += [nn.Linear(width, size), act()]
            width = size
        self.classifier = nn.Sequential(*layers, nn.Linear(width, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
