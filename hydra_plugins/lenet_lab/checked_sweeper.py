"""The project's grid sweeper, `hydra/sweeper=lenet_lab`: Hydra's basic sweeper, every job checked before the first.

Jobs run exactly as with Hydra's basic sweeper (same batches, same order, same numbers, so a
SLURM sweep is still one job array). What differs is the check before launching: Hydra composes
every job's config (~0.25 s a job here, minutes before the first job of a 1,000-seed sweep) and
sees only keys and types; for a config of this project sweep_start.py checks every job's values
and builds one job per distinct configuration instead, and creates the stores jobs share.

Its own name, not Hydra's `basic`: installing the project must not change the sweeper of any other
Hydra application. conf/sweeper/grid.yaml chooses it for run.py; for another application's config
(Hydra's own test suites run it so) it does what Hydra's basic sweeper does.
"""

# No `from __future__ import annotations`: Hydra's plugin scan runs this module before it is in
# sys.modules, where dataclasses would look string annotations up.
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from hydra_plugins.lenet_lab import sweep_start

NAME = "lenet_lab"  # hydra/sweeper=lenet_lab


@dataclass
class CheckedSweeperConf:
    _target_: str = "hydra_plugins.lenet_lab.checked_sweeper.CheckedSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None


ConfigStore.instance().store(group="hydra/sweeper", name=NAME, node=CheckedSweeperConf, provider="lenet_lab")


class CheckedSweeper(BasicSweeper):
    checked = False  # whether sweep_start checked (and so composed) every job of this sweep

    def sweep(self, arguments: List[str]) -> Any:
        if sweep_start.is_lenet_lab_run(self.config):
            try:
                jobs = self.jobs(arguments)
            except HydraException as error:  # e.g. hydra.sweeper.select matches no row
                sweep_start.stop(error)
            sweep_start.check_jobs(self.config, self.hydra_context.config_loader, jobs)
            self.checked = True
        return super().sweep(arguments)

    def jobs(self, arguments: List[str]) -> List[List[str]]:
        """The override list of every job sweep() launches, in its order, parsed as sweep() parses them."""
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        parsed = parser.parse_overrides([*self._parse_config(), *arguments])
        return [job for batch in self.split_arguments(parsed, None) for job in batch]

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        if not self.checked:  # another application's config: Hydra's own check, every job composed
            super().validate_batch_is_legal(batch)
