"""What an entry point does before it composes a config: importing this module does it, once.

- registers the OmegaConf resolvers conf/config.yaml uses (`unique_dir`, `suffix`, `job_devices`,
  `job_strategy`), the `run_schema` config and the sweep files (the group `sweep`);
- silences warnings nobody can act on (below).

Imported by the entry points only: run.py, the commands (`python -m lenet_lab.aggregate|evaluate|
predict`) and the tests' fixtures; no module of the package imports it. run.py's task function
refers to it, so that the worker processes of a launcher (joblib, submitit), which unpickle that
function instead of running run.py, import it too before they resolve a job's config.
"""

from __future__ import annotations

import os
import warnings

from lenet_lab.config import placement, resolvers, schema, sweep_files

KNOWN_WARNINGS = (
    # Lightning calls a torch API that torch has deprecated; nothing a user can act on.
    r".*isinstance\(treespec, LeafSpec\)",
    # Metrics are logged per epoch only, so the per-step logging interval doesn't matter.
    r".*smaller than the logging interval",
    # data.val_size=0 (train on all 60,000) gives Lightning an empty validation list, on purpose.
    r"Total length of .* across ranks is zero",
    # A resumed job writes its checkpoint where the last one is: expected, not a mistake.
    r"Checkpoint directory .* exists and is not empty",
)


def prepare() -> None:
    """Idempotent: resolvers are registered once, filters added once."""
    resolvers.register()
    placement.register()
    schema.register()
    sweep_files.register()
    for message in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    if "SLURM_JOB_ID" not in os.environ:  # not inside an allocation: Lightning's srun hint does not apply
        # Here, not in run.py: joblib's worker processes import this module, not run.py.
        warnings.filterwarnings("ignore", message=r"The `srun` command is available on your system but is not used")


prepare()
