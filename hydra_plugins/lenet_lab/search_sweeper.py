"""Hydra's Optuna sweeper (hparams_search=optuna), ending like every other sweep when no trial completed.

After its last trial the Optuna sweeper asks the study for the best one; with no completed trial
(every job failed: a bad data path, a learning rate that diverges everywhere) Optuna raises, and
the sweep would stop in a traceback before its tables and its list of failed jobs are written.
Here it logs one line instead and lets the sweep end as usual (tables, failures, exit code 1).
"""

from __future__ import annotations

import logging

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper

log = logging.getLogger(__name__)

NO_COMPLETED_TRIAL = "No trials are completed yet"  # optuna's message in study.best_trial


class SearchSweeper(OptunaSweeper):
    def sweep(self, arguments):
        try:
            return super().sweep(arguments)
        except ValueError as error:
            if NO_COMPLETED_TRIAL not in str(error):
                raise
            log.error("no trial of the search completed: there is no best one")
            return None
