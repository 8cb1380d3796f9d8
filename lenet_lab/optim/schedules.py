"""Learning-rate schedules torch doesn't ship. The others come straight from `torch.optim.lr_scheduler`."""

from __future__ import annotations

from collections.abc import Sequence

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


class PiecewiseConstantLR(LRScheduler):
    """A learning rate set by epoch from an explicit table, e.g. the 1998 LeNet-5 schedule.

    `values` is a list of `(first_epoch, lr)` pairs with 1-based epochs as papers count them:
    `[(1, 5e-4), (3, 2e-4)]` trains epochs 1-2 at 5e-4 and every epoch from 3 on at 2e-4. The
    table replaces the optimizer's own `lr`. Step it once per epoch.
    """

    def __init__(self, optimizer: Optimizer, values: Sequence[Sequence[float]], last_epoch: int = -1):
        table = sorted((int(epoch), float(lr)) for epoch, lr in values)
        if not table or table[0][0] != 1:
            raise ValueError(f"piecewise lr values must start at epoch 1, got {list(values)}")
        self.table = table
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> float:
        """The rate of 1-based `epoch`."""
        return [lr for first, lr in self.table if first <= epoch][-1]

    def get_lr(self) -> list[float]:
        return [self.lr_at(self.last_epoch + 1)] * len(self.optimizer.param_groups)
