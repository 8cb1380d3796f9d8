"""OmegaConf resolvers the configs use for folder names. Registered by `lenet_lab.startup`."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf


def unique_dir(path: str) -> str:
    """Claim `path`, or `path_2`, `path_3`, ... if a sweep already took it.

    `mkdir` either creates the folder or fails, so two sweeps started in the same second can't
    both get the same one. `use_cache` keeps the answer for the rest of the sweep: Hydra copies the
    cache into every job's config, including jobs run in other processes by joblib or submitit.
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 10_000):
        candidate = base if attempt == 1 else base.with_name(f"{base.name}_{attempt}")
        try:
            candidate.mkdir()
            return str(candidate)
        except FileExistsError:
            continue
    raise RuntimeError(f"no free folder next to {base}")


def suffix(text: str) -> str:
    """"_text", or nothing for an empty text: a run without overrides gets no dangling "_"."""
    return f"_{text}" if text else ""


def register() -> None:
    if not OmegaConf.has_resolver("unique_dir"):
        OmegaConf.register_new_resolver("unique_dir", unique_dir, use_cache=True)
        OmegaConf.register_new_resolver("suffix", suffix)
