"""Fill TensorBoard's HParams tab: the job's flattened config beside its final metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from torch.utils.tensorboard.summary import hparams


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


def write_hparams(writer, config: Mapping, metric_tags: Iterable[str]) -> None:
    """Write the HParams session summary into `writer`'s event file (a torch SummaryWriter).

    Only the metric *names* go into the summary: TensorBoard reads their values from the scalars
    the job already logged, so nothing is written twice (Lightning's `log_hyperparams(metrics=...)`
    would log each metric again at step 0).
    """
    experiment, start, end = hparams(flatten(config), {tag: 0.0 for tag in metric_tags})
    file_writer = writer._get_file_writer()
    for summary in (experiment, start, end):
        file_writer.add_summary(summary)
    writer.flush()
