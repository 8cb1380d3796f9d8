"""Train one configuration, or a sweep of them with -m.

    python run.py                                        # LeNet-5, Adam, 10 epochs
    python run.py model=mlp optimizer=sgd optimizer.lr=0.01 epochs=3
    python run.py -m model=lenet,resnet18 optimizer=adam,sgd
"""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from lenet_lab.errors import UserError
from lenet_lab.results import write_metrics
from lenet_lab.train import train

log = logging.getLogger("lenet_lab")


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    hydra_cfg = HydraConfig.get()
    job_dir = hydra_cfg.runtime.output_dir
    single_run = hydra_cfg.mode == RunMode.RUN
    label = "" if single_run else f"{hydra_cfg.job.num}:{hydra_cfg.job.override_dirname}"
    try:
        metrics = train(cfg, job_dir, interactive=single_run and sys.stdout.isatty(), label=label)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:
        # Record the failure where aggregation looks for it. In a sweep, carry on with the other
        # jobs (the traceback is in this job's run.log; the sweep's summary lists the failure).
        write_metrics(job_dir, {"status": "failed", "error": f"{type(error).__name__}: {error}"})
        if single_run:
            raise
        log.exception("job %s failed", label)
        return None
    # What a Hydra sweeper (e.g. Optuna) maximizes; None when nothing was held out (val_size=0).
    return metrics.get("val/acc")


if __name__ == "__main__":
    main()
