"""run.py's multirun in this process, stopped where its first batch would launch: what a sweep does before its first job."""

import sys

import pytest
from hydra.core.plugins import Plugins

import run


def start_sweep(monkeypatch, *args: str) -> list[list[str]]:
    """`python run.py -m ARGS` up to its first launch; the override lists of the jobs it would launch."""
    launched = []

    class Launcher:  # stands in for the launcher (Hydra reloads plugin modules: patching theirs would be lost)
        def launch(self, job_overrides, initial_job_idx):
            launched.extend(list(job) for job in job_overrides)
            raise SystemExit(0)

    monkeypatch.setattr(Plugins, "instantiate_launcher", lambda self, **kwargs: Launcher())
    monkeypatch.setattr(sys, "argv", ["run.py", "-m", *args])
    with pytest.raises(SystemExit) as exit:
        run.cli()
    assert exit.value.code == 0 and launched, "the sweep stopped before its first launch"
    return launched
