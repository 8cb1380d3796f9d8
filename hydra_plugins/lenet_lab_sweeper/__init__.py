"""Hydra plugin: the basic sweeper, checking one config per distinct configuration (see distinct_sweeper.py).

Hydra only loads sweepers from the `hydra_plugins` namespace package, hence this location.
"""
