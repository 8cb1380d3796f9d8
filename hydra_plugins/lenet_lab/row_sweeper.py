"""`hydra/sweeper=lenet_lab_rows`: a sweeper whose jobs are named rows, each a list of ordinary overrides.

A published table's rows differ in config-group choices and values at once (`optimizer=sgd
optimizer.lr=1` next to `optimizer=adam epochs=60`), which a cartesian sweep can't express. A
sweep file (sweeps/*.yaml) selects this sweeper and lists its rows:

    hydra:
      sweeper:
        rows:
          adam_30: {overrides: [optimizer=adam, epochs=30], published: {test/acc: 97.36}}

Every row runs once per combination of the command line's own sweep (`seed=1,2`), with the
command line's overrides after the row's: `epochs=2` on the command line wins over a row's
`epochs=30`. Each job gets `sweep.row=<name>`, so its config says which row it was. Jobs are
checked before the first starts as the grid sweeper's are (checked_sweeper.py, sweep_start.py).

The sweep files are the options of the config group `sweep` (lenet_lab/config/sweep_files.py).
"""

# No `from __future__ import annotations`: Hydra's plugin scan runs this module before it is in
# sys.modules, where dataclasses would look string annotations up.
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import OmegaConf

from hydra_plugins.lenet_lab.checked_sweeper import CheckedSweeper
from lenet_lab.config import overrides
from lenet_lab.config.sweep_files import SWEEPS_DIR

NAME = "lenet_lab_rows"  # hydra/sweeper=lenet_lab_rows
ROW_KEY = "sweep.row"


@dataclass
class RowSweeperConf:
    _target_: str = "hydra_plugins.lenet_lab.row_sweeper.RowSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None
    # Where the rows' published numbers come from (shown above the published-vs-measured table).
    reference: str = ""
    # name -> {overrides: [str], published: {metric: number}}
    rows: Dict[str, Any] = field(default_factory=dict)
    # Row names or glob patterns to run (null: all), e.g. hydra.sweeper.select=[lenet_*]
    select: Optional[List[str]] = None


ConfigStore.instance().store(group="hydra/sweeper", name=NAME, node=RowSweeperConf, provider="lenet_lab")


def selected_rows(rows: dict, select: list[str] | None) -> dict:
    if not select:
        return rows
    chosen = {name: row for name, row in rows.items() if any(fnmatch.fnmatchcase(name, pattern) for pattern in select)}
    if not chosen:
        raise HydraException(f"hydra.sweeper.select={list(select)} matches no row; the rows are {', '.join(rows)}")
    return chosen


def sweep_file_values(arguments: list[str], directory: Path = SWEEPS_DIR) -> Any:
    """The settings of the sweep file the command line names (`+sweep=NAME`), or None."""
    names = [a.split("=", 1)[1] for a in arguments if overrides.key(a) == "sweep" and "=" in a]
    path = directory / f"{names[-1]}.yaml" if names else None
    return OmegaConf.load(path) if path and path.is_file() else None


def restates(override: str, values: Any) -> bool:
    """Whether `key=value` sets what the sweep file itself sets (`epochs=20` where the file says 20)."""
    parsed = overrides.parse(override)
    if values is None or parsed.is_delete() or parsed.is_sweep_override():
        return False
    current = OmegaConf.select(values, parsed.key_or_group, default=None, throw_on_resolution_failure=False)
    return current is not None and not OmegaConf.is_config(current) and current == parsed.value()


def row_jobs(rows: dict, select: list[str] | None, arguments: list[str], file_values: Any = None) -> list[list[str]]:
    """Every selected row x every job of the command line's own cartesian sweep, as override lists.

    A row's override of a key the command line also sets is dropped, so the job's recorded
    overrides say what it ran with; so is a command-line override that restates the sweep
    file's own value (`file_values`) for a key the row leaves alone: the job runs as published
    and must not be labelled changed.
    """
    cartesian = overrides.expand(arguments)
    jobs = []
    for name, row in selected_rows(rows, select).items():
        own = list(row.get("overrides") or [])
        own_keys = {overrides.key(o) for o in own}
        for job in cartesian:
            job = [o for o in job if overrides.key(o) in own_keys or not restates(o, file_values)]
            given = {overrides.key(o) for o in job}
            jobs.append([f"{ROW_KEY}={name}", *(o for o in own if overrides.key(o) not in given), *job])
    return jobs


class RowSweeper(CheckedSweeper):
    def __init__(self, max_batch_size=None, params=None, reference="", rows=None, select=None):
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.rows = OmegaConf.to_container(rows, resolve=True) if OmegaConf.is_config(rows) else dict(rows or {})
        self.select = list(select) if select else None
        if not self.rows:
            raise HydraException("the rows sweeper needs hydra.sweeper.rows: a sweep file from sweeps/ (+sweep=NAME)")

    def split_arguments(self, parsed, max_batch_size):  # an instance method here: it needs the rows
        arguments = [o.input_line for o in parsed]
        jobs = row_jobs(self.rows, self.select, arguments, sweep_file_values(arguments))
        size = max_batch_size if max_batch_size and max_batch_size > 0 else max(len(jobs), 1)
        return [jobs[i : i + size] for i in range(0, len(jobs), size)]
