"""Module paths from before the package was laid out by stage, still importable.

Job folders and checkpoints written earlier name them in their configs (`_target_:
lenet_lab.optimizers.sdlm.SDLM`, `lenet_lab.sweep_callback.AggregateSweep`), and users' scripts
import them (`from lenet_lab.train import train`). An import of an old path gets the module that
holds its code now, under both names: one module object, so `isinstance` and monkeypatching work
through either.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys

MOVED = {
    "lenet_lab.batches": "lenet_lab.data.batches",
    "lenet_lab.classification": "lenet_lab.evaluation.classification",
    "lenet_lab.cuda_check": "lenet_lab.training.cuda_check",
    "lenet_lab.digit_images": "lenet_lab.evaluation.digit_images",
    "lenet_lab.distortions": "lenet_lab.data.distortions",
    "lenet_lab.divergence": "lenet_lab.training.divergence",
    "lenet_lab.epoch_line": "lenet_lab.training.epoch_line",
    "lenet_lab.evaluation_callback": "lenet_lab.training.test_evaluation",
    "lenet_lab.evaluation_plots": "lenet_lab.evaluation.figures",
    "lenet_lab.events": "lenet_lab.reports.events",
    "lenet_lab.features": "lenet_lab.evaluation.features",
    "lenet_lab.figure_events": "lenet_lab.reports.figures.tensorboard",
    "lenet_lab.hparams": "lenet_lab.training.hparams",
    "lenet_lab.job_evaluation": "lenet_lab.evaluation.job_evaluation",
    "lenet_lab.jobs": "lenet_lab.reports.jobs",
    "lenet_lab.launcher": "lenet_lab.config.launcher",
    "lenet_lab.markdown": "lenet_lab.reports.markdown",
    "lenet_lab.module": "lenet_lab.training.classifier",
    "lenet_lab.optimizers": "lenet_lab.optim",
    "lenet_lab.optimizers.sdlm": "lenet_lab.optim.sdlm",
    "lenet_lab.pixels": "lenet_lab.data.pixels",
    "lenet_lab.placement": "lenet_lab.config.placement",
    "lenet_lab.plots": "lenet_lab.reports.figures.sweep",
    "lenet_lab.published": "lenet_lab.reports.published",
    "lenet_lab.published_plots": "lenet_lab.reports.figures.published",
    "lenet_lab.resolvers": "lenet_lab.config.resolvers",
    "lenet_lab.results": "lenet_lab.job_folder",
    "lenet_lab.sample_grid": "lenet_lab.reports.figures.training_images",
    "lenet_lab.schedules": "lenet_lab.optim.schedules",
    "lenet_lab.schema": "lenet_lab.config.schema",
    "lenet_lab.search": "lenet_lab.sweep_callbacks",
    "lenet_lab.sweep_callback": "lenet_lab.sweep_callbacks",
    "lenet_lab.sweep_figures": "lenet_lab.reports.figures.rows",
    "lenet_lab.threads": "lenet_lab.config.threads",
    "lenet_lab.train": "lenet_lab.training.train",
    "lenet_lab.trained_model": "lenet_lab.training.trained_model",
    "lenet_lab.tsne": "lenet_lab.evaluation.tsne",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target
        self.spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = self.spec  # the import system stamped the old name's spec on it: the module keeps its own


class MovedModules(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(MOVED[fullname]))


def install() -> None:
    # First in line: otherwise `lenet_lab.optimizers.sdlm` would be found as a file of the aliased
    # package's folder and loaded a second time under the old name.
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModules())
