"""lenet_lab's Hydra plugins, all in one package, each sweeper under a name of its own.

Hydra only loads plugins from the `hydra_plugins` namespace package, hence this location. It also
imports every module here in every Hydra application of the environment: none takes Hydra's own
names (`basic`), and none imports torch or Lightning at import.

checked_sweeper.py  `hydra/sweeper=lenet_lab`: Hydra's basic sweeper, every job checked before the first (run.py's default)
row_sweeper.py      `hydra/sweeper=lenet_lab_rows`: the rows of a sweep file (sweeps/*.yaml)
sweep_start.py      the checks before a sweep's first job, run by both
search_sweeper.py   the sweeper of hparams_search=optuna
"""
