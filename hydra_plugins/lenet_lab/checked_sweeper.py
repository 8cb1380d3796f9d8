"""Hydra's basic sweeper, with its start-up check paid per configuration instead of per job.

Before it launches a batch, Hydra's sweeper composes every job's config to catch composition
errors early (`Sweeper.validate_batch_is_legal`): ~0.25 s a job here, over four minutes before the
first job of a 1,000-seed sweep. Jobs that differ only in `seed` (overrides.BUILD_INDEPENDENT)
compose alike, so one of each is enough; every job's seed is checked on its own before the sweep
starts (sweep_callbacks.AggregateSweep). Jobs run exactly as with the basic sweeper: same batches,
same order, same numbers, so a SLURM sweep is still one job array.

It takes the place of Hydra's `basic` option of `hydra/sweeper` (the default of every multirun):
this module imports Hydra's first, so its entry is stored after Hydra's. An override in the
primary config would do it more visibly, but Hydra lets it win over the sweepers that sweep files
(`rows`) and searches (`optuna`) choose. The row sweeper inherits from this one.
"""

# No `from __future__ import annotations`: Hydra's plugin scan runs this module before it is in
# sys.modules, where dataclasses would look string annotations up.
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore

from lenet_lab.config import overrides


@dataclass
class DistinctSweeperConf:
    _target_: str = "hydra_plugins.lenet_lab_sweeper.distinct_sweeper.DistinctSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None


ConfigStore.instance().store(group="hydra/sweeper", name="basic", node=DistinctSweeperConf, provider="lenet_lab")


class DistinctSweeper(BasicSweeper):
    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        super().validate_batch_is_legal([job for _, job in overrides.distinct_configurations([list(job) for job in batch])])
