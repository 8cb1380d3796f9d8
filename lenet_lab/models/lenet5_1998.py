"""LeNet-5 as the 1998 paper describes it (Gradient-Based Learning Applied to Document Recognition).

    input 1@32x32, LeCun scaling (background -0.1, ink 1.175)
    C1  6 convolutions 5x5                      6@28x28    156 parameters
    S2  trainable subsampling                   6@14x14     12
    C3  16 convolutions 5x5, partial table      16@10x10  1,516
    S4  trainable subsampling                   16@5x5      32
    C5  120 convolutions 5x5                    120@1x1  48,120
    F6  84 units                                84       10,164
    out 10 Euclidean RBF units on fixed 7x12 digit bitmaps      0   (60,000 in all)

Every layer but the output is followed by the squashing function f(a) = 1.7159 tanh(2a/3).
The model returns *scores*: minus the RBF penalties, so the best class is the largest score,
as for any other model here; `loss` is the paper's MAP criterion on those scores.
`head="softmax"` replaces the RBF layer with a trainable 84 -> 10 linear layer and
cross-entropy (the "reproduction" that later write-ups trained).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

# Which S2 maps each C3 map reads (the paper's Table I).
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip

# The RBF units' fixed weights: stylised digits on a 7x12 grid, "#" = +1, "." = -1.
DIGIT_BITMAPS = """
....... ....... ....... ....... ....... ....... ....... ....... ....... .......
..###.. ...#... ..###.. .#####. ....#.. ####### ...##.. ####### ..###.. ..###..
.#...#. ..##... .#...#. .....#. ...##.. #...... ..#.... ......# .#...#. .#...#.
#.....# .#.#... .....#. ....#.. ..#.#.. #...... .#..... .....#. #.....# #.....#
#.....# ...#... .....#. ...#... .#..#.. #####.. #...... ....#.. .#...#. #.....#
#.....# ...#... ....#.. ..###.. #...#.. .....#. #.###.. ...#... ..###.. .#...##
#.....# ...#... ...#... .....#. ####### ......# ##...#. ...#... .#...#. ..###.#
#.....# ...#... ..#.... ......# ....#.. ......# #.....# ..#.... #.....# ......#
#.....# ...#... .#..... ......# ....#.. ......# #.....# ..#.... #.....# .....#.
.#...#. ...#... #...... #....#. ....#.. #....#. .#...#. ..#.... .#...#. ....#..
..###.. .#####. ####### .####.. ....#.. .####.. ..###.. ..#.... ..###.. ..##...
....... ....... ....... ....... ....... ....... ....... ....... ....... .......
"""


# The paper draws every weight from +-2.4 / fan-in. With it the signal shrinks layer by layer (F6's
# outputs start ~1e-3); +-2.4 / sqrt(fan-in), the form of the "Efficient BackProp" paper,
# keeps activations in the squashing function's useful range.
INITS = {"fan_in": lambda n: n, "sqrt_fan_in": lambda n: n**0.5}


def digit_bitmaps() -> torch.Tensor:
    """[10, 12, 7] of -1/+1, digit d at index d."""
    rows = [line.split() for line in DIGIT_BITMAPS.strip().splitlines()]
    return torch.tensor([[[1.0 if c == "#" else -1.0 for c in row[d]] for row in rows] for d in range(10)])


def squash(a: torch.Tensor) -> torch.Tensor:
    return 1.7159 * torch.tanh(a * (2 / 3))


class Subsampling(nn.Module):
    """S2/S4: the sum of each 2x2 block times one trainable coefficient, plus one bias, per map."""

    def __init__(self, maps: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(maps))
        self.bias = nn.Parameter(torch.empty(maps))

    def forward(self, x):
        return F.avg_pool2d(x, 2) * (4 * self.weight[:, None, None]) + self.bias[:, None, None]


class PartialConvolution(nn.Module):
    """C3: output map k convolves only the input maps in table[k] (1,516 parameters, not 2,416).

    Only the connected 5x5 kernels are parameters; each forward scatters them into a full
    [16, 6, 5, 5] weight with zeros elsewhere and runs one convolution, which is much faster
    than 16 small ones (at batch size 1, every step counts 60,000 times an epoch).
    """

    def __init__(self, table=C3_TABLE, in_maps: int = 6, kernel_size: int = 5):
        super().__init__()
        connected = torch.zeros(len(table), in_maps, dtype=torch.bool)
        for k, inputs in enumerate(table):
            connected[k, list(inputs)] = True
        self.register_buffer("connected", connected, persistent=False)
        # Kernels in row-major (output map, input map) order, as boolean indexing fills them.
        self.weight = nn.Parameter(torch.empty(int(connected.sum()), kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(len(table)))

    def fan_in(self) -> torch.Tensor:
        """Each kernel's unit's number of inputs: 25 per input map its output map reads."""
        per_map = self.connected.sum(1) * self.weight.shape[-1] ** 2
        return per_map.repeat_interleave(self.connected.sum(1))

    def forward(self, x):
        full = self.weight.new_zeros(*self.connected.shape, *self.weight.shape[1:])
        full[self.connected] = self.weight
        return F.conv2d(x, full, self.bias)


class EuclideanRBF(nn.Module):
    """y_i = sum_j (x_j - w_ij)^2 with fixed w; returns -y (higher is better)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("centers", digit_bitmaps().flatten(1))  # [10, 84], not trained

    def forward(self, x):
        return -(x[:, None, :] - self.centers).square().sum(-1)


class LeNet5_1998(nn.Module):
    def __init__(self, head: str = "rbf", map_j: float = 0.1, num_classes: int = 10, init: str = "fan_in"):
        super().__init__()
        if head not in ("rbf", "softmax"):
            raise ValueError(f"unknown head {head!r}; choose one of rbf, softmax")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        self.head, self.map_j, self.init = head, map_j, init
        self.c1, self.s2 = nn.Conv2d(1, 6, 5), Subsampling(6)
        self.c3, self.s4 = PartialConvolution(), Subsampling(16)
        self.c5, self.f6 = nn.Conv2d(16, 120, 5), nn.Linear(120, 84)
        self.output = EuclideanRBF() if head == "rbf" else nn.Linear(84, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in +-2.4 / F, every weight and bias, F from the unit's fan-in (see INITS)."""
        scale = INITS[self.init]
        fan_in = {self.s2: 4, self.s4: 4, self.c5: 16 * 25, self.f6: 120, self.c1: 25}
        if self.head == "softmax":
            fan_in[self.output] = 84
        for module, inputs in fan_in.items():
            for parameter in module.parameters(recurse=False):
                nn.init.uniform_(parameter, -2.4 / scale(inputs), 2.4 / scale(inputs))
        with torch.no_grad():  # C3's fan-in differs by output map: 75, 100 or 150
            limit = 2.4 / scale(self.c3.fan_in().float())
            self.c3.weight.copy_((torch.rand_like(self.c3.weight) * 2 - 1) * limit[:, None, None])
            maps = (self.c3.connected.sum(1) * 25).float()
            self.c3.bias.copy_((torch.rand_like(self.c3.bias) * 2 - 1) * (2.4 / scale(maps)))

    def features(self, x):
        """F6's 84 outputs: what the RBF units compare with their bitmaps."""
        x = squash(self.s2(squash(self.c1(x))))
        x = squash(self.s4(squash(self.c3(x))))
        return squash(self.f6(squash(self.c5(x)).flatten(1)))

    def forward(self, x):
        return self.output(self.features(x))

    def curvature_target(self) -> tuple[nn.Module, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
        """What SDLM measures its Gauss-Newton curvature on: a network and a loss on its output.

        RBF head: as the paper, F6's output against the correct class's bitmap, the penalty
        y_correct = sum_j (x_j - w_correct,j)^2, whose second derivative in every x_j is 2. (The
        MAP loss's own curvature is ~0 at the start, when every RBF penalty is ~84 and the "rubbish"
        term exp(-j) takes all the probability: SDLM would then step lr/mu on every weight.)
        Softmax head: the scores and cross-entropy.
        """
        if self.head == "softmax":
            return self, self.loss
        centers = self.output.centers
        return _Features(self), lambda x, labels: (x - centers[labels]).square().sum(1).mean()

    def loss(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The paper's MAP criterion for the RBF head, cross-entropy for the softmax head.

        With scores z = -y: E = y_correct + log(exp(-j) + sum_i exp(-y_i))
                              = logsumexp(z_1..z_10, -j) - z_correct,
        i.e. cross-entropy over the 10 scores plus a fixed 11th "rubbish" class of score -j, which
        keeps the penalties of the wrong classes from being pushed up without end.
        """
        if self.head == "softmax":
            return F.cross_entropy(scores, labels)
        rubbish = scores.new_full((len(scores), 1), -self.map_j)
        return F.cross_entropy(torch.cat([scores, rubbish], dim=1), labels)


class _Features(nn.Module):
    """A view of a LeNet5_1998 whose output is F6's (the same parameters, not a copy)."""

    def __init__(self, network: LeNet5_1998):
        super().__init__()
        self.network = network

    def forward(self, x):
        return self.network.features(x)

    def layerwise(self) -> tuple[list[nn.Module], Callable[[torch.Tensor], torch.Tensor]]:
        """The layers in order and the squashing function after each: what SDLM's layer-by-layer
        (the paper's) curvature backpropagates through (`optimizer.curvature=layerwise`)."""
        n = self.network
        return [n.c1, n.s2, n.c3, n.s4, n.c5, n.f6], squash
