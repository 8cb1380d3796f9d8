"""TensorBoard event files -> scalar rows, with tensorboard's own record reader.

Every record is read (no sampling, unlike EventAccumulator's defaults), and a file cut short by
a killed job or overwritten with garbage is reported instead of raising: its complete records
are kept.
"""

from __future__ import annotations

from pathlib import Path

from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow
from tensorboard.util import tensor_util


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
