"""hparams_search=optuna: the project's Optuna sweeper, on Optuna's ask/tell, each trial a job of the sweep.

It asks the study for `n_jobs` trials at a time, launches them as jobs of the multirun (any
launcher: basic, joblib, submitit), tells the study how each ended (its val/acc, pruned, or failed:
read from the job's folder like the tables), until the study holds `n_trials`. The study lives in
`hydra.sweeper.storage` (by default `<sweep dir>/optuna.journal`), so the same command into the same
folder continues it: finished trials stay, a trial cut off mid-run runs again in its own folder
(resuming from its checkpoint), and only the rest of the budget is asked for. The study's plots go
into the sweep folder. The jobs' folders, tables and failures are those of every sweep.

Optuna is imported when a search starts: Hydra imports every module here to find its plugins, also
where the `search` extra is not installed.
"""

from __future__ import annotations

import logging
import math
import sys
from itertools import groupby
from pathlib import Path
from typing import Any

from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig

from hydra_plugins.lenet_lab import sweep_start
from lenet_lab import job_folder
from lenet_lab.errors import UserError, one_line, report
from lenet_lab.studies.space import params_lines, search_space, trial_overrides
from lenet_lab.studies.storage import is_url, storage_location

log = logging.getLogger(__name__)


def quoted(text: str) -> str:
    """A value for an override that stays one string whatever it holds (a path's `:`, `=` or `,`)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Search:
    """One study and what its trials run: the search space and the overrides every trial shares.
    (A plain class: Hydra runs this module before it is in sys.modules, which @dataclass needs.)"""

    def __init__(self, study, space: dict[str, Any], shared: list[str], n_trials: int, hydra_overrides: list[str] = ()):
        self.study = study
        self.space = space
        self.shared = shared  # overrides after the trial's own values: fixed params, the command line
        self.n_trials = n_trials
        self.hydra_overrides = list(hydra_overrides)  # e.g. where its jobs' folders go

    def left(self) -> int:
        """Trials still to ask for: the budget less every trial the study holds, cut-off ones included (they run again)."""
        return max(0, self.n_trials - len(self.study.get_trials(deepcopy=False)))


class SearchSweeper(Sweeper):
    def __init__(
        self,
        direction: str = "maximize",
        study_name: str = "lenet_lab",
        storage: str | None = None,
        n_trials: int = 20,
        n_jobs: int = 1,
        sampler: Any = None,
        pruner: Any = None,
        monitor: str = "val/acc",
        plots: bool = True,
        params: dict | None = None,
        trial: int | None = None,  # set by this sweeper for each trial's job: its trial's id (training/pruning.py)
    ):
        self.direction = direction
        self.study_name = study_name
        self.storage_setting = storage
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.sampler = sampler  # its _target_ node, built for each study (_recursive_: false in conf/hydra/sweeper/search.yaml)
        self.pruner_setting = pruner
        self.monitor = monitor
        self.plots = plots
        self.params = params

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(hydra_context=hydra_context, task_function=task_function, config=config)
        self.sweep_dir = Path(str(config.hydra.sweep.dir))
        self.storage = storage_location(self.storage_setting, self.sweep_dir)

    # --- the study ------------------------------------------------------------------------------

    def open_study(self, name: str):
        """The study of this name in the storage: created, or loaded to be continued."""
        import optuna

        from lenet_lab.studies.pruners import build_pruner
        from lenet_lab.studies.storage import open_storage

        if self.n_jobs < 1 or self.n_trials < 0:
            raise ValueError(f"hydra.sweeper.n_jobs must be >= 1 and n_trials >= 0 (got {self.n_jobs}, {self.n_trials})")
        study = optuna.create_study(
            study_name=name,
            storage=open_storage(self.storage),
            sampler=self.build_sampler(),  # a sampler serves one study; each starts from the same seed
            pruner=build_pruner(self.pruner_setting) or optuna.pruners.NopPruner(),
            direction=self.direction,
            load_if_exists=True,
        )
        self.continue_sampler(study)
        return study

    def build_sampler(self, seed_offset: int = 0):
        """The sampler node -> a new sampler (None: Optuna's default), its seed moved on by `seed_offset`."""
        from hydra.utils import instantiate

        if self.sampler is None:
            return None
        if seed_offset and self.sampler.get("seed") is not None:
            return instantiate(self.sampler, seed=self.sampler.seed + seed_offset)
        return instantiate(self.sampler)

    def continue_sampler(self, study) -> None:
        """A study continued with a sampler seeded as at its start would propose its first trials
        again: the seed moves on by the trials the study holds (the same continuation still
        proposes the same trials)."""
        if done := len(study.get_trials(deepcopy=False)):
            study.sampler = self.build_sampler(seed_offset=done)

    def space_and_shared(self, arguments: list[str]) -> tuple[dict[str, Any], list[str]]:
        """The config's params, then the command line: sweeps of either are searched, the rest is shared."""
        return search_space(params_lines(self.params) + list(arguments))

    def trial_job_overrides(self) -> list[str]:
        """Hydra settings every trial's job gets: where the study is (a journal path resolved here, so
        that jobs in other processes or folders open the same file)."""
        return [] if is_url(self.storage) else [f"hydra.sweeper.storage={quoted(self.storage)}"]

    def job_number(self, trial) -> int:
        """A trial's job is numbered as the trial: `<number>_<overrides>/`."""
        return trial.number

    # --- the loop -------------------------------------------------------------------------------

    def sweep(self, arguments: list[str]) -> None:
        search = self.checked(lambda: Search(self.open_study(self.study_name), *self.space_and_shared(arguments), self.n_trials))
        self.checked(lambda: self.check_before_first_trial([search]))
        log.info("Study %s in %s: %d of %d trials there, %s", self.study_name, self.storage, self.n_trials - search.left(), self.n_trials, self.describe_space(search.space))
        self.run([search])
        self.finish(search.study, self.sweep_dir)

    @staticmethod
    def checked(prepare):
        """What `prepare` returns, or, for a bad setting (a pruner's name, a space), one line and exit code 2 before any job."""
        try:
            return prepare()
        except (UserError, ValueError) as error:
            sys.exit(report(error))
        except ImportError as error:  # Optuna, optuna-integration: the search extra
            sys.exit(report(UserError(f"a search needs the search extra: pip install -e '.[search]' ({error})")))

    def check_before_first_trial(self, searches: list[Search]) -> None:
        """What a grid's sweep checks before its first job (sweep_start.py), for what each search's
        trials share: the data folder and Trainer settings, and the stores parallel trials write into
        (an MLflow store) created once. A trial's own values are checked as its job starts: a bad point
        of the space fails its trial only."""
        if not sweep_start.is_lenet_lab_run(self.config):
            return
        try:
            sweep_start.check_jobs(self.config, self.hydra_context.config_loader, [search.shared for search in searches])
        except UserError as error:  # named by what the trials share, not as a job: none exists yet
            raise UserError(f"every trial would fail: {one_line(error.__cause__ or error)}") from error

    @staticmethod
    def describe_space(space: dict[str, Any]) -> str:
        return "searching " + ", ".join(space) if space else "nothing to search (no params sweep)"

    def run(self, searches: list[Search]) -> None:
        """Ask, launch, tell until every search holds its budget of trials. Trials a cut-off sweep
        left running are run again first, in their own folders."""
        from optuna.trial import TrialState

        pending = [(s, t) for s in searches for t in s.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
        if pending:
            log.info("%d trial(s) cut off before they ended: running them again", len(pending))
        while True:
            batch = pending
            for search in searches:
                batch += [(search, search.study.ask(search.space)) for _ in range(min(self.n_jobs, search.left()))]
            if not batch:
                return
            pending = []
            self.launch_and_tell(batch)

    def launch_and_tell(self, batch: list[tuple[Search, Any]]) -> None:
        jobs = [(self.job_number(trial), self.overrides_of(search, trial), search, trial) for search, trial in batch]
        jobs.sort(key=lambda job: job[0])
        # A launcher numbers the jobs of one launch from initial_job_idx on: consecutive numbers go together.
        for _, run in groupby(enumerate(jobs), key=lambda pair: pair[1][0] - pair[0]):
            run = [job for _, job in run]
            returns = self.launcher.launch([job[1] for job in run], initial_job_idx=run[0][0])
            for (_, _, search, trial), job_return in zip(run, returns):
                state, value = self.outcome(job_return)
                search.study.tell(trial.number, value, state=state)

    def overrides_of(self, search: Search, trial) -> list[str]:
        # The job's Hydra config names its study and trial: a trial's job reports to it (training/pruning.py).
        study = [f"hydra.sweeper.study_name={quoted(search.study.study_name)}", f"hydra.sweeper.trial={trial._trial_id}"]
        return [*trial_overrides(trial.params), *search.shared, *self.trial_job_overrides(), *search.hydra_overrides, *study]

    def outcome(self, job_return) -> tuple[Any, float | None]:
        """How a trial ended, for its study: pruned (its job's metrics.json says so), complete with the
        value its job returned (val/acc), or failed (no value: the job failed, or diverged before it
        had one)."""
        from optuna.trial import TrialState

        job_dir = job_return.hydra_cfg.hydra.runtime.output_dir if job_return.hydra_cfg else None
        status = (job_folder.read_metrics(job_dir) or {}).get("status") if job_dir else None
        if status == job_folder.PRUNED:
            return TrialState.PRUNED, None
        value = job_return.return_value if job_return.status == JobStatus.COMPLETED else None
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return TrialState.FAIL, None
        return TrialState.COMPLETE, float(value)

    def finish(self, study, folder: Path) -> None:
        """The best trial and the plots, in the log and the folder; a study without a completed trial has no best."""
        from optuna.trial import TrialState

        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            log.error("no trial of the search completed: there is no best one, and nothing to plot")
            return
        log.info("Best parameters: %s", study.best_trial.params)
        log.info("Best value: %s", study.best_value)
        if self.plots:
            from lenet_lab.studies.plots import write_plots

            for path in write_plots(study, folder):
                log.info("Plot: %s", path)
