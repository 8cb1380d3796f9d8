"""A run's composed config as a tree (rich), printed before a single interactive run trains:
what will run, after every default, group choice and override, with interpolations resolved."""

from __future__ import annotations

from omegaconf import DictConfig, ListConfig, OmegaConf
from rich.console import Console
from rich.syntax import Syntax
from rich.tree import Tree


def config_tree(cfg: DictConfig) -> Tree:
    tree = Tree("config", guide_style="dim")
    for key in cfg:  # in the order the config composed them
        node = cfg[key]
        if isinstance(node, (DictConfig, ListConfig)) and len(node):
            tree.add(str(key)).add(Syntax(OmegaConf.to_yaml(node, resolve=True).rstrip(), "yaml", background_color="default"))
        else:
            tree.add(f"{key}: {OmegaConf.to_container(node, resolve=True) if isinstance(node, (DictConfig, ListConfig)) else node}")
    return tree


def print_config_tree(cfg: DictConfig, console: Console | None = None) -> None:
    (console or Console()).print(config_tree(cfg))
