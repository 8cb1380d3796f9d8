"""`hydra.sweeper.params` in Hydra's sweep syntax -> Optuna distributions, and a trial back to overrides.

    optimizer: choice(adam, sgd)                      categorical (also `adam,sgd`)
    optimizer.lr: tag(log, interval(1e-4, 1e-1))      float on a log scale
    optimizer.momentum: interval(0.5, 0.99)           float, uniform (`int(interval(0, 4))`: whole numbers)
    data.batch_size: range(32, 257, 32)               int with a step: the values a grid would run
    epochs: 3                                         not a sweep: the same in every trial

`range` keeps Hydra's meaning (the end is excluded, as `-m x=range(...)` runs it), so a search and a
grid over the same `range` try the same values. Choices are kept as their override text
(`32`, `[a,b]`), so every trial's value goes back onto a command line unchanged.
"""

from __future__ import annotations

from typing import Any

from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep, Transformer

from lenet_lab.config import overrides
from lenet_lab.errors import UserError


def distribution(override: Override) -> Any:
    """One override -> an Optuna distribution, or its value text when it is not a sweep."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if not override.is_sweep_override():
        return override.get_value_element_as_str()
    value = override.value()
    if isinstance(value, ChoiceSweep) or (isinstance(value, RangeSweep) and value.shuffle):
        return CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
    if isinstance(value, RangeSweep):
        values = list(override.sweep_iterator())
        if not values:
            raise UserError(f"{override.input_line}: the range is empty")
        step = value.step
        if all(isinstance(v, int) for v in (value.start, value.stop, step)):
            return IntDistribution(values[0], values[-1], step=step)
        return FloatDistribution(values[0], values[-1], step=step)
    if isinstance(value, IntervalSweep):
        log = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return IntDistribution(value.start, value.end, log=log)
        return FloatDistribution(value.start, value.end, log=log)
    raise UserError(f"{override.input_line}: not a search space (choice, range, interval, tag(log, interval))")


def search_space(lines: list[str]) -> tuple[dict[str, Any], list[str]]:
    """`key=value` lines -> ({key: distribution} of the sweeps, the other lines as they are).
    A later line for a key replaces an earlier one (the command line after the config's params)."""
    space: dict[str, Any] = {}
    fixed: dict[str, str] = {}
    for override in overrides.parse_all(lines):
        name = override.get_key_element()
        space.pop(name, None)
        fixed.pop(name, None)
        if override.is_sweep_override():
            space[name] = distribution(override)
        else:
            fixed[name] = override.input_line
    return space, list(fixed.values())


def params_lines(params: dict | None) -> list[str]:
    """The sweeper's `params:` node -> override lines."""
    return [f"{key}={value}" for key, value in (params or {}).items()]


def trial_overrides(params: dict[str, Any]) -> list[str]:
    """A trial's values as overrides, in the order of the search space."""
    return [f"{name}={value!r}" if isinstance(value, float) else f"{name}={value}" for name, value in params.items()]
