"""Hydra plugin: sweeps whose jobs are the rows of a published table (see row_sweeper.py).

Hydra only loads sweepers from the `hydra_plugins` namespace package, hence this location.
"""
