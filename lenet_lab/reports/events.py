"""A job's logs -> its curves: TensorBoard event files (read with tensorboard's own record reader),
or, for a job logged by the CSV logger only, its metrics.csv files (reports/csv_log.py).

Every record is read (no sampling, unlike EventAccumulator's defaults), and a file cut short by
a killed job or overwritten with garbage is reported instead of raising: its complete records
are kept.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow
from tensorboard.util import tensor_util

from lenet_lab import job_folder
from lenet_lab.reports.csv_log import read_csv_scalars


def scalar_value(value) -> float | None:
    if value.HasField("simple_value"):  # what torch's SummaryWriter.add_scalar writes
        return value.simple_value
    if value.HasField("tensor") and value.metadata.plugin_data.plugin_name == "scalars":
        return float(tensor_util.make_ndarray(value.tensor))
    return None


def read_scalars(path: str | Path) -> tuple[list[tuple[str, int, float, float]], str | None]:
    """(tag, step, value, wall_time) for every scalar in the file, and what was wrong with it, if anything."""
    rows = []
    reader = pywrap_tensorflow.PyRecordReader_New(str(path))
    while True:
        try:
            reader.GetNext()
        except errors.OutOfRangeError:  # the end of a complete file
            return rows, None
        except errors.DataLossError as error:
            return rows, f"{Path(path).name}: {error.message.replace(str(path), '').strip() or 'corrupt record'}"
        try:
            event = event_pb2.Event.FromString(reader.record())
        except Exception as error:  # a record whose checksum passed but is not an Event
            return rows, f"{Path(path).name}: unreadable record ({error})"
        for value in event.summary.value:
            number = scalar_value(value)
            if number is not None:
                rows.append((value.tag, event.step, number, event.wall_time))


COLUMNS = ["tag", "step", "epoch", "value", "wall_time"]


def curves_frame(records: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=COLUMNS)
    frame["epoch"] = frame["epoch"].astype("Int64")
    return frame


def read_curves(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A job's logged scalars as a (tag, step, epoch, value, wall_time) table, and the problems of its log files."""
    records, problems = read_curve_records(path)
    return curves_frame(records), problems


def read_curve_records(path: Path) -> tuple[list[tuple], list[str]]:
    """A job's logged scalars as (tag, step, epoch, value, wall_time) tuples sorted by tag and step,
    and the problems of its log files.

    TensorBoard's events when the job has them, else the CSV logger's files: both hold the same
    numbers (the same float32 values), so a job logged by both is read once.

    Plain Python, no pandas: a sweep reads a few hundred rows per job for up to thousands of jobs,
    and pandas' fixed cost per operation (and per DataFrame) was most of aggregation's time
    (benchmarks/aggregate_speed.py); the sweep's tables build one DataFrame for all jobs.
    """
    rows, problems = [], []
    event_files = job_folder.event_files(path)
    for log_file in event_files or job_folder.csv_metric_files(path):
        file_rows, problem = (read_scalars if event_files else read_csv_scalars)(log_file)
        rows += file_rows
        if problem:
            problems.append(f"truncated or corrupt {'event' if event_files else 'CSV log'} file {problem}")
    # A resumed job logs some steps again: the latest write wins (file order among equal times).
    latest = {}
    for tag, step, value, wall_time in sorted(rows, key=lambda row: row[3]):
        latest[tag, step] = value, wall_time
    # Lightning logs the 0-based epoch next to every metric; papers count epochs from 1.
    epoch_at = {step: int(value) + 1 for (tag, step), (value, _) in latest.items() if tag == "epoch"}
    # The final test runs after the last epoch, when Lightning's counter has already moved on;
    # a test measured every epoch (data.test_every_epoch) shares its step with the validation.
    fit_steps = {step for tag, step in latest if tag != "epoch" and not tag.startswith("test/")}
    records = []
    for (tag, step), (value, wall_time) in latest.items():
        if tag == "epoch":
            continue
        epoch = epoch_at.get(step)
        if epoch is not None and tag.startswith("test/") and step not in fit_steps:
            epoch -= 1
        records.append((tag, step, epoch, value, wall_time))
    records.sort(key=lambda record: record[:2])
    return records, problems
