"""Hydra plugin: the Optuna sweeper of hparams_search=optuna, ending as any sweep (see search_sweeper.py).

Hydra only instantiates sweepers from the `hydra_plugins` namespace package, hence this location.
"""
