"""joblib's worker processes start deaf to the terminal's Ctrl-C; the sweep stops them itself.

A Ctrl-C in a terminal signals the command's whole process group, joblib's (loky's) workers too. A
worker still importing torch when it arrives has none of stop_signals' handlers yet: Python raises
KeyboardInterrupt there, the worker prints its traceback and dies, and joblib then ends the other
workers outright (a job one of them had just begun keeps no record). `install()` has loky start each
worker with SIGINT blocked; stop_signals unblocks it when the worker's first job starts, so a Ctrl-C
that came during its start-up is handled then, as any other: that job does not start. The stop
reaches the workers through the sweep folder's stop file either way (training/stop_signals.py).

This leans on loky's private `fork_exec` (the one function that starts a worker);
`missing_private_api()` says when it is gone, and install() then changes nothing.
"""

from __future__ import annotations

import logging
import signal

log = logging.getLogger("lenet_lab")

FORK_EXEC = "joblib.externals.loky.backend.fork_exec.fork_exec"


def missing_private_api() -> list[str]:
    """What install() needs of joblib's loky and the installed joblib lacks ([] without joblib)."""
    try:
        from joblib.externals.loky.backend import fork_exec
    except ImportError as error:
        return [] if error.name == "joblib" else [FORK_EXEC]
    return [] if callable(getattr(fork_exec, "fork_exec", None)) else [FORK_EXEC]


def install() -> None:
    """Before a joblib sweep's workers start (no-op without joblib; one warning where loky changed)."""
    if missing := missing_private_api():
        log.warning("joblib lacks %s: a Ctrl-C while its workers start prints their tracebacks (lenet_lab/launch/joblib_workers.py needs updating)", ", ".join(missing))
        return
    try:
        from joblib.externals.loky.backend import fork_exec as module
    except ImportError:  # no joblib: no workers to start
        return
    if not getattr(module.fork_exec, "blocks_sigint", False):
        module.fork_exec = started_with_sigint_blocked(module.fork_exec)


def started_with_sigint_blocked(fork_exec):
    """`fork_exec`, its child started with SIGINT blocked (a blocked signal stays blocked across exec)."""

    def fork_exec_blocking_sigint(*args, **kwargs):
        before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # this thread only, for the fork
        try:
            return fork_exec(*args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)

    fork_exec_blocking_sigint.blocks_sigint = True
    return fork_exec_blocking_sigint
