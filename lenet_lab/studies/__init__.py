"""Optuna studies for hparams_search: the search space, where a study lives, pruners, plots.

Shared by the sweepers in hydra_plugins/lenet_lab/ (which ask and tell) and the jobs they launch
(which report each epoch's val/acc for pruning). Optuna is imported inside the functions: without
the `search` extra nothing here is loaded.
"""
