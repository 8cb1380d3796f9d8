"""Hydra callback: when a multirun ends, aggregate its jobs into the sweep folder.

Jobs that fail record it in their metrics.json and return (see run.py), so the sweep always
reaches this point; here it is reported, and the sweep exits non-zero if any job failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from lenet_lab.aggregate import aggregate


class AggregateSweep(Callback):
    def __init__(self, plots: bool = True):
        self.plots = plots

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            result = aggregate([sweep_dir], out=sweep_dir, plots=self.plots)
        except Exception as error:  # the jobs' own results are safe on disk; say why there is no table
            print(f"aggregation of {sweep_dir} failed: {error}", file=sys.stderr)
            return
        print(f"\n{result['markdown']}\n\nresults: {sweep_dir / 'results.md'}", flush=True)
        summary = result["summary"]
        failed = summary[summary.status != "completed"]
        if len(failed):
            for row in failed.itertuples():
                print(f"job {row.job}: {row.status} {row.error}".rstrip(), file=sys.stderr)
            print(f"{len(failed)} of {len(summary)} jobs did not complete", file=sys.stderr)
            sys.exit(1)
