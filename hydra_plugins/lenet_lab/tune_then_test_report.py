"""The tables of hparams_search=tune_then_test: the comparison over the final jobs, the tuning beside it.

In place of the usual aggregate callback (conf/hparams_search/tune_then_test.yaml): results.md of the
sweep compares the final jobs (each group's tuned values, seeds 1..N) grouped by the grid, with the
verdicts of every sweep, and says what the tuning was: its budget and each group's chosen values.
The tuning jobs have tables of their own in tuning/results.md, never mixed into the comparison.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from lenet_lab import job_folder, sweep_folder
from lenet_lab.sweep_folder import FINAL_DIR, TUNING_DIR
from lenet_lab.sweep_folder import TUNE_THEN_TEST_PLAN as PLAN_FILE

# lenet_lab.sweep_callbacks and the tables are imported when a sweep ends: Hydra imports this module
# in every Hydra application of the environment (its plugin scan), which must not load torch.


def percent(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def counted(number, noun: str) -> str:
    """"1 epoch", "3 epochs"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def tuning_markdown(plan: dict) -> str:
    """The budget and each group's choice, as a section of results.md."""
    space = ", ".join(f"`{key}`: `{value}`" for key, value in plan["space"].items())
    chosen_keys = list(plan["space"])
    grid = plan["grid"]
    header = [*(grid or ["group"]), "trials completed / pruned / failed", "best val/acc % (tuning)", *chosen_keys]
    rows = []
    for group in plan["groups"]:
        values = dict(line.split("=", 1) for line in group["combination"])
        trials = group["trials"]
        params = group.get("params") or {}
        chosen = [f"{params[k]:.4g}" if isinstance(params.get(k), float) else str(params.get(k, "not tested")) for k in chosen_keys]
        cells = [*(values.get(k, "") for k in grid), *([] if grid else ["all"])]
        rows.append([*cells, f"{trials['complete']} / {trials['pruned']} / {trials['failed']}", percent(group.get("value")), *chosen])
    table = "\n".join("| " + " | ".join(map(str, row)) + " |" for row in [header, ["---"] * len(header), *rows])
    return (
        "## Tuning\n\n"
        f"Every group was tuned with the same budget, on val/acc (the validation hold-out, never the test set): "
        f"{counted(plan['n_trials'], 'trial')} of {counted(plan['epochs'], 'epoch')} each, seed {plan['tuning_seed']}, sampler {plan['sampler']}, "
        f"pruner {plan['pruner'] or 'none'}, over {space}. Each group's best trial was then trained again with seeds "
        f"1-{plan['seeds']} and tested: the comparison above is over those final jobs. The tuning jobs: "
        f"[{TUNING_DIR}/results.md]({TUNING_DIR}/results.md); the studies: `{plan['storage']}`.\n\n{table}\n"
    )


class AggregateTuned(Callback):
    """Runs after the usual `aggregate` callback (which stands aside: hydra.sweeper.own_tables), with its settings."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from lenet_lab import sweep_callbacks

        settings = config.hydra.callbacks.get("aggregate") or {}
        self.plots, self.metric, self.baseline = settings.get("plots", True), settings.get("metric"), settings.get("baseline")
        sweep_dir = Path(config.hydra.sweep.dir)
        plan_file = sweep_dir / PLAN_FILE
        if not plan_file.is_file():  # the search stopped before it chose anything: say why there is no table
            print(f"no tuned comparison: {plan_file} was not written", file=sys.stderr)
            sweep_callbacks.incomplete_sweeps.append(sweep_dir)
            return
        plan = json.loads(plan_file.read_text())
        tuning = self.tables(sweep_dir / TUNING_DIR, sweep_dir / TUNING_DIR, None)
        final = self.tables(sweep_dir / FINAL_DIR, sweep_dir, plan["grid"] or None)
        section = tuning_markdown(plan)
        results = sweep_folder.results_md(sweep_dir)
        head = results.read_text() + "\n" if final is not None else "# No final jobs\n\nNo group had a completed trial to test.\n\n"
        results.write_text(head + section)
        print(f"\n{final['markdown'] if final is not None else ''}\n\n{section}\nresults: {results}", flush=True)
        for result in (tuning, final):
            self.report_failures(result, sweep_dir)

    def tables(self, folder: Path, out: Path, group_by: list[str] | None) -> dict | None:
        """aggregate() of the jobs under `folder` into `out`; None when there are none or it fails (said why)."""
        from lenet_lab.reports.sweep_report import aggregate

        if not folder.is_dir() or not job_folder.find_job_dirs([folder]):
            return None
        try:
            return aggregate([folder], out=out, group_by=group_by, plots=self.plots, metric=self.metric, baseline=self.baseline)
        except Exception as error:  # the jobs' own results are safe on disk
            print(f"aggregation of {folder} failed: {error}", file=sys.stderr)
            return None

    @staticmethod
    def report_failures(result: dict | None, sweep_dir: Path) -> None:
        if result is None:
            return
        summary = result["summary"]
        failed = summary[summary.status.isin(job_folder.NOT_A_RESULT)]
        for row in failed.itertuples():
            print(f"job {row.job}: {row.status} {row.error}".rstrip(), file=sys.stderr)
        if len(failed):
            from lenet_lab import sweep_callbacks

            print(f"{len(failed)} of {len(summary)} jobs did not complete", file=sys.stderr)
            sweep_callbacks.incomplete_sweeps.append(sweep_dir)
