"""Errors the user can fix by changing a command, a config or a folder.

Everything that raises `UserError` is reported as one line on stderr and exit code 2 (`report`;
run.py for a training run, `command` around every other entry point's main): a wall of traceback
would bury the one sentence that says what to do.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

EXIT_CODE = 2


class UserError(Exception):
    """Bad input: a missing data folder, a config value out of range, an unknown option."""


class DataError(UserError):
    """The MNIST files are missing, unreadable or not what they claim to be."""


class DamagedFile(UserError, ValueError):
    """A job's metrics.json or checkpoint that can't be read (a disk error, a copy cut short): named
    with what to do, nothing changed. A ValueError too: readers that already set an unreadable
    metrics.json aside (the tables) keep doing so."""


def report(error: BaseException, where: str = "") -> int:
    """`error` as the one line a user reads (`error: {where}...` on stderr); the exit code that goes
    with it. A UserError's message is written for the user as it stands; any other is folded to one line."""
    print(f"error: {where}{error if isinstance(error, UserError) else one_line(error)}", file=sys.stderr, flush=True)
    return EXIT_CODE


def command(main: Callable[..., int]) -> Callable[..., int]:
    """A command's `main(argv) -> exit code` whose UserErrors end it through `report`."""

    @functools.wraps(main)
    def reporting(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except UserError as error:
            return report(error)

    return reporting


def one_line(error: BaseException) -> str:
    """`error` and the error that caused it (Hydra wraps OmegaConf's), each as one line."""
    text = _flatten(error)
    cause = error.__cause__
    if cause is not None and _flatten(cause) and _flatten(cause) not in text:
        text = f"{text} ({_flatten(cause)})"
    return text


def _flatten(error: BaseException) -> str:
    """A multi-line library message (Hydra's, OmegaConf's) as one readable line.

    Drops the lines that point into config internals (full_key, object_type, search paths)
    and the advice about HYDRA_FULL_ERROR; keeps what was wrong and what the options are.
    """
    lines, skipping = [], False
    for raw in str(error).splitlines():
        line = raw.strip()
        if line.startswith("Config search path"):
            skipping = True
        elif not raw.startswith(("\t", " ")):
            skipping = False
        if not line or skipping or line.startswith(("full_key:", "object_type=", "reference_type=", "Set the environment variable")):
            continue
        lines.append(line)
    text = " ".join(lines)
    return text.replace("Available options in", "; available options in")
