"""hparams_search=tune_then_test: tune every contender with the same budget, then test the tuned winners.

    python run.py -m hparams_search=tune_then_test optimizer=adam,sgd,momentum hydra.sweeper.n_trials=20 hydra.sweeper.seeds=5

The command line's sweeps are the grid (here three optimizers). Each combination gets the same
search (`hydra.sweeper.params`, its own study `<study_name> <combination>` in the one storage, the
same sampler seed, `n_trials` trials) on val/acc, trained with `tuning_seed`, which is none of the
test seeds; its jobs go to `<sweep>/tuning/`, its plots to `<sweep>/tuning_plots/<combination>/`. Then each combination's best trial is trained again
with seeds 1..`seeds` into `<sweep>/final/`, and the sweep's tables are over those final jobs,
grouped by the grid (tune_then_test_report.py). Model selection never sees the test set, and every
contender gets its learning rate chosen the same way (Choi et al. 2019; Sivaprasad et al. 2020).

The same command into the same folder continues: each study runs only what is left of its budget,
and final jobs already completed are skipped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from hydra_plugins.lenet_lab.search_sweeper import Search, SearchSweeper
from lenet_lab.config import overrides
from lenet_lab.studies.space import params_lines, search_space
from lenet_lab.sweep_folder import FINAL_DIR, TUNING_DIR
from lenet_lab.sweep_folder import TUNE_THEN_TEST_PLAN as PLAN_FILE

log = logging.getLogger(__name__)



def subdir(folder: str) -> str:
    """A job's folder under `folder` of the sweep, named as any job's (Hydra resolves it per job)."""
    return f"hydra.sweep.subdir={folder}/${{hydra.job.num}}_${{hydra.job.override_dirname}}"


class TuneThenTest(SearchSweeper):
    def __init__(self, seeds: int = 5, tuning_seed: int = 0, own_tables: bool = True, **settings: Any):
        super().__init__(**settings)
        self.seeds = seeds
        self.tuning_seed = tuning_seed

    def job_number(self, trial) -> int:
        # The studies share the tuning folder: the trial's id in the storage is unique across them.
        return trial._trial_id

    def sweep(self, arguments: list[str]) -> None:
        searches, grid_lines, space, fixed, shared, combinations = self.checked(lambda: self.prepare(arguments))
        self.checked(lambda: self.check_before_first_trial(searches))
        log.info(
            "Tuning %d combination(s) of %s, %d trials each (seed %d), in %s; then the best of each with seeds 1-%d",
            len(searches), ", ".join(overrides.key(line) for line in grid_lines) or "no grid", self.n_trials, self.tuning_seed, self.storage, self.seeds,
        )  # fmt: skip
        self.run(searches)
        for search in searches:
            self.finish(search.study, self.sweep_dir / f"{TUNING_DIR}_plots" / slug(search.combination))
        chosen = [self.chosen(search) for search in searches]
        self.write_plan(grid_lines, space, chosen, combinations)
        self.test(chosen, combinations, fixed, shared)

    def prepare(self, arguments: list[str]):
        """The grid's combinations, each with its study; raises for a bad setting."""
        grid_lines, shared = self.split(arguments)
        space, fixed = search_space(params_lines(self.params))
        if not space:
            raise ValueError("hparams_search=tune_then_test needs a search space: hydra.sweeper.params (e.g. optimizer.lr: tag(log, interval(1e-4, 1)))")
        combinations = overrides.expand(grid_lines) if grid_lines else [[]]
        searches = []
        for combination in combinations:
            name = " ".join([self.study_name, *combination])
            shared_lines = [*combination, *fixed, *shared, f"seed={self.tuning_seed}"]
            search = Search(self.open_study(name), space, shared_lines, self.n_trials, [subdir(TUNING_DIR)])
            search.combination = combination
            searches.append(search)
        return searches, grid_lines, space, fixed, shared, combinations

    def split(self, arguments: list[str]) -> tuple[list[str], list[str]]:
        """The command line -> (its sweeps: the grid, the rest: shared by every job). The seeds are the sweeper's."""
        grid, shared = [], []
        for line, parsed in zip(arguments, overrides.parse_all(arguments)):
            if overrides.key(line) == "seed":
                raise ValueError(f"{line}: tune_then_test sets the seeds (hydra.sweeper.tuning_seed, hydra.sweeper.seeds)")
            (grid if parsed.is_sweep_override() else shared).append(line)
        if not 0 <= self.tuning_seed < 2**32 or 1 <= self.tuning_seed <= self.seeds:
            raise ValueError(f"hydra.sweeper.tuning_seed={self.tuning_seed} must not be a test seed (1-{self.seeds})")
        return grid, shared

    @staticmethod
    def chosen(search: Search) -> dict | None:
        """The study's best trial's values and score, with how its trials ended; None without a completed one."""
        from optuna.trial import TrialState

        trials = search.study.get_trials(deepcopy=False)
        states = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}
        counts = {name: sum(t.state == state for t in trials) for name, state in states.items()}
        if not counts["complete"]:
            return {"params": None, "value": None, "trials": counts}
        best = search.study.best_trial
        return {"params": best.params, "value": best.value, "trial": best.number, "trials": counts}

    def write_plan(self, grid_lines: list[str], space: dict, chosen: list[dict], combinations: list[list[str]]) -> None:
        plan = {
            "grid": [overrides.key(line) for line in grid_lines],
            "n_trials": self.n_trials,
            "epochs": self.config.get("epochs"),
            "space": {key: str(self.params[key]) for key in space},
            "tuning_seed": self.tuning_seed,
            "seeds": self.seeds,
            "sampler": f"{self.sampler._target_.rsplit('.', 1)[-1]}(seed={self.sampler.get('seed')})" if self.sampler is not None else "Optuna's default",
            "pruner": str(self.pruner_setting) if self.pruner_setting is not None else None,
            "storage": self.storage,
            "groups": [{"combination": combination, **choice} for combination, choice in zip(combinations, chosen)],
        }
        (self.sweep_dir / PLAN_FILE).write_text(json.dumps(plan, indent=2, default=str) + "\n")

    def test(self, chosen: list[dict], combinations: list[list[str]], fixed: list[str], shared: list[str]) -> None:
        """Each combination's best values, trained with seeds 1..N: the jobs the comparison is over."""
        from lenet_lab.studies.space import trial_overrides

        jobs = []
        for combination, choice in zip(combinations, chosen):
            if choice["params"] is None:
                log.error("%s: no trial completed, nothing to test", " ".join(combination) or "the search")
                continue
            for seed in range(1, self.seeds + 1):
                jobs.append([*combination, *trial_overrides(choice["params"]), *fixed, *shared, f"seed={seed}", subdir(FINAL_DIR)])
        if jobs:
            log.info("Testing the tuned values: %d jobs", len(jobs))
            self.launcher.launch(jobs, initial_job_idx=0)


def slug(combination: list[str]) -> str:
    """A combination as a folder name: `optimizer=adam,model=mlp`; `search` for no grid."""
    return ",".join(line.replace("/", "_") for line in combination) or "search"
