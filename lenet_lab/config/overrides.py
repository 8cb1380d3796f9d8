"""`key=value` command-line overrides, read with Hydra's own grammar: the one parser of the package.

Hydra reads `optimizer.lr=1e-3` as the float 0.001 and `model=lenet` as the string "lenet"; a
job's recorded overrides are read back here the same way, so two jobs given `1e-3` and `0.001`
are one group of a table. Only Hydra's imports: the sweepers in hydra_plugins/ use this too.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException

# Overrides that say where or how a job ran, not what it was: never columns of a comparison, never
# in a job folder's name. conf/config.yaml's hydra.job.config.override_dirname.exclude_keys lists
# the same keys (a test reads both); "hydra." covers every Hydra setting (hydra.sweep.dir, ...).
# Where a job logs (`logger=csv`, `logger.mlflow.tracking_uri=...`) is not what it ran either.
NOT_PARAMETERS = ("data.root", "data.download", "data.on_device", "threads", "trainer.accelerator", "trainer.devices", "logger", "hydra.")


@lru_cache(maxsize=1)
def _parser() -> OverridesParser:
    return OverridesParser.create()


def parse(line: str) -> Override:
    """One override; raises hydra's OverrideParseException (a HydraException) when it isn't one."""
    return _parser().parse_override(line)


def parse_all(lines: list[str]) -> list[Override]:
    return _parser().parse_overrides(list(lines))


def key(line: str) -> str:
    """`+optimizer.rho=0.95` -> `optimizer.rho`: the key two overrides share when one replaces the other.
    Read without parsing the value, so that it works for any line, also one Hydra would refuse."""
    return line.split("=", 1)[0].lstrip("+~").split("@", 1)[0]


def value(line: str) -> Any:
    """The override's value as Hydra reads it: `1e-3` -> 0.001, `[1,2]` -> [1, 2], `null` -> None.
    A line Hydra can't parse keeps its text."""
    return copy.deepcopy(_value(line))  # a list value must not be shared between callers


@lru_cache(maxsize=1 << 16)
def _value(line: str) -> Any:
    # Cached: Hydra's parser takes ~1 ms a line, and a sweep's jobs repeat the same lines
    # (aggregating 1,000 jobs parses each `model=lenet` once, not 1,000 times).
    try:
        parsed = parse(line)
    except HydraException:
        return line.split("=", 1)[1] if "=" in line else None
    if parsed.is_sweep_override():  # a recorded job has single values; a sweep's text stays as typed
        return line.split("=", 1)[1]
    return parsed.value()


def is_parameter(line: str) -> bool:
    """Whether the override changes the experiment (not where or how it ran)."""
    name = key(line)
    return not any(name == p or name.startswith(p if p.endswith(".") else p + ".") for p in NOT_PARAMETERS)


def parameters(lines: list[str]) -> dict[str, Any]:
    """A job's overrides -> {key: value} of those that change the experiment, values as Hydra reads them."""
    return {key(line): value(line) for line in lines if is_parameter(line)}


def same(a: str, b: str) -> bool:
    """Two overrides setting the same key to the same value (`optimizer.lr=1e-3` and `optimizer.lr=0.001`)."""
    return key(a) == key(b) and a.startswith("~") == b.startswith("~") and value(a) == value(b)


def expand(arguments: list[str]) -> list[list[str]]:
    """A command line's sweep (`model=a,b seed=1,2`) -> the override list of every job, as Hydra's
    basic sweeper orders them."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return [job for batch in BasicSweeper.split_arguments(parse_all(arguments), None) for job in batch]


# Keys whose value can't change whether a job's config composes and builds: jobs that differ only
# in them are checked once at a sweep's start, their values on their own (sweep_callbacks.py).
BUILD_INDEPENDENT = ("seed",)


def distinct_configurations(jobs: list[list[str]]) -> list[tuple[int, list[str]]]:
    """(job number, overrides) of the first job of each configuration, BUILD_INDEPENDENT keys set aside:
    two entries for `model=lenet,mlp seed=range(1,1001)`."""
    seen, chosen = set(), []
    for number, job in enumerate(jobs):
        configuration = tuple(line for line in job if key(line) not in BUILD_INDEPENDENT)
        if configuration not in seen:
            seen.add(configuration)
            chosen.append((number, list(job)))
    return chosen
