"""Fill TensorBoard's HParams tab: the job's choices by name and its flattened config beside its final metrics.

A config-group choice is listed under the group's name (`model: lenet`, `optimizer: momentum`),
as Hydra recorded it, with every value the command line set (`optimizer.lr: 0.01`), so that the
tab can be filtered the way the sweep was written; the flattened config (`model._target_`, ...)
follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from torch.utils.tensorboard.summary import hparams

from lenet_lab.config import launcher, overrides


def flatten(config: Mapping, prefix: str = "") -> dict:
    """{"optimizer": {"lr": 0.1}} -> {"optimizer.lr": 0.1}, values as TensorBoard accepts them."""
    flat = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        else:  # lists, None
            flat[name] = str(value)
    return flat


def run_labels() -> dict:
    """The running job's config-group choices by name and its command line's values; {} outside Hydra
    (train() called directly)."""
    hydra_cfg = launcher.hydra_config()
    if hydra_cfg is None:
        return {}
    choices = {group: str(option) for group, option in hydra_cfg.runtime.choices.items() if option is not None and not group.startswith("hydra/")}
    return {**choices, **overrides.parameters(list(hydra_cfg.overrides.task))}


def write_hparams(writer, config: Mapping, metric_tags: Iterable[str], labels: Mapping | None = None) -> None:
    """Write the HParams session summary into `writer`'s event file (a torch SummaryWriter).

    Only the metric *names* go into the summary: TensorBoard reads their values from the scalars
    the job already logged, so nothing is written twice (Lightning's `log_hyperparams(metrics=...)`
    would log each metric again at step 0).
    """
    named = flatten(dict(labels or {}))  # first, so that the tab lists them first
    listed = {**named, **{key: value for key, value in flatten(config).items() if key not in named}}
    experiment, start, end = hparams(listed, {tag: 0.0 for tag in metric_tags})
    file_writer = writer._get_file_writer()
    for summary in (experiment, start, end):
        file_writer.add_summary(summary)
    writer.flush()
