"""lenet_lab's Hydra plugins, all in one package: the project's sweepers.

Hydra only loads plugins from the `hydra_plugins` namespace package, hence this location.
search_sweeper.py: the Optuna sweeper of hparams_search=optuna, ending like any sweep.
"""
