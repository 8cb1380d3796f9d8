"""Errors the user can fix by changing a command, a config or a folder.

Everything that raises `UserError` is reported by `run.py` as one line on stderr and exit code 2:
a wall of traceback would bury the one sentence that says what to do.
"""


class UserError(Exception):
    """Bad input: a missing data folder, a config value out of range, an unknown option."""


class DataError(UserError):
    """The MNIST files are missing, unreadable or not what they claim to be."""
