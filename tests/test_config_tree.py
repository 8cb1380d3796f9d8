"""A single interactive run prints its composed config as a tree before it trains."""

import sys

from rich.console import Console

import run
from lenet_lab.config.tree import config_tree


def test_the_tree_has_every_group_with_values_resolved(compose_config):
    console = Console(record=True, width=120)
    console.print(config_tree(compose_config("optimizer=sgd", "optimizer.lr=0.05", "epochs=3", "tags=[baseline]")))
    text = console.export_text()
    for line in ("model", "optimizer", "lr: 0.05", "max_epochs: 3", "logger", "tensorboard", "- baseline", "epochs: 3"):
        assert line in text, line


def test_a_single_interactive_run_prints_it_first(monkeypatch, tmp_path, capsys, mnist_root):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run, "terminal", lambda: True)
    monkeypatch.setattr(sys, "argv", ["run.py", "debug=fdr", "model=mlp", f"data.root={mnist_root}", "data.val_size=20"])
    run.cli()
    out = capsys.readouterr().out
    assert out.startswith("config") and "lenet_lab.models.mlp" in out
    assert out.index("fast_dev_run: true") < out.index("fast_dev_run passed")


def test_a_sweep_prints_no_tree(monkeypatch, tmp_path, capsys, mnist_root):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run, "terminal", lambda: True)
    monkeypatch.setattr(sys, "argv", ["run.py", "-m", "debug=fdr", "model=mlp", f"data.root={mnist_root}", "data.val_size=20", "hydra.sweep.dir=sweep"])
    run.cli()
    assert "fast_dev_run: true" not in capsys.readouterr().out
