"""Lightning's CSVLogger files -> the same (tag, step, value, wall_time) rows as TensorBoard's event files.

A row of metrics.csv is one `log_metrics` call: a `step` column, Lightning's `epoch` counter and the
metrics logged at that step (empty cells for the others). The file has no wall time; rows are in the
order they were written, which is what a resumed job's "latest write wins" needs.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path


def read_csv_scalars(path: str | Path) -> tuple[list[tuple[str, int, float, float]], str | None]:
    """(tag, step, value, wall_time=NaN) for every cell of the file, and what was wrong with it, if anything."""
    rows = []
    try:
        with open(path, newline="") as f:
            for record in csv.DictReader(f):
                step = int(float(record.pop("step")))
                rows += [(tag, step, float(value), math.nan) for tag, value in record.items() if tag and value not in ("", None)]
    except (OSError, ValueError, KeyError, TypeError, csv.Error) as error:
        return rows, f"{Path(path).parent.name}/{Path(path).name}: {type(error).__name__}: {error}"
    return rows, None
