"""One Ctrl-C or SIGTERM stops a local run or sweep: the running job is recorded, no new job starts.

Without this, a signal only stops what Lightning is running when it arrives: one sent while a job
tests, writes its evaluation or waits between jobs is lost (SIGTERM) or ends one job while the sweep
goes on; the next job's Trainer resets Lightning's record of it.

Which process does what:
- The command's process (run.py's `cli` calls `install`). While it runs a job itself (single runs,
  Hydra's basic launcher) a first signal raises KeyboardInterrupt there, which Lightning and train()
  record as `interrupted`. Between jobs and while the tables are written it only notes the signal:
  the task function then refuses the next job, and the tables are finished.
- When the jobs run in other processes (joblib), the command's process only notes the signal and
  writes it into the sweep folder (job_folder.STOP_FILE); each worker watches that file and signals
  itself, so a SIGTERM sent to the command alone reaches the jobs too. The workers are left to
  record their jobs: raising in the command's process would make joblib kill them outright.
- Jobs that SLURM runs (submitit) never install this: there SIGTERM is SLURM's preemption of that
  job, which submitit and Lightning handle.

A second signal to the command's process ends it at once, as it would have without this module.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from lenet_lab.job_folder import STOP_FILE

SIGNALS = (signal.SIGINT, signal.SIGTERM)
WATCH_INTERVAL_S = 0.5  # how often a worker looks for the stop file


class _State:
    installed = False  # this process's handlers are ours
    command = False  # the command's own process (a second signal ends it at once)
    raising = False  # a first signal raises KeyboardInterrupt: a job runs in this process
    signum: int | None = None  # the signal that stops this run
    sweep_dir: Path | None = None  # where the stop file goes (command) or is looked for (worker)
    previous: dict = {}  # the handlers before ours, put back by `finished`
    watcher: threading.Thread | None = None


state = _State()


def install() -> None:
    """In the command's process, before Hydra starts: every signal of SIGNALS stops the run."""
    _take_signals()
    state.command, state.raising, state.signum, state.sweep_dir = True, True, None, None


def sweep_started(sweep_dir: Path, launcher: str) -> None:
    """The command's process starts a sweep into `sweep_dir` with `launcher` (config/launcher.py's names)."""
    if not state.command:
        return
    if launcher.startswith("submitit"):  # the jobs are SLURM's (or submitit's) processes: Ctrl-C ends the waiting command as before
        _give_back_signals()
        return
    state.sweep_dir = Path(sweep_dir)
    stop_file(state.sweep_dir).unlink(missing_ok=True)  # left by a stopped run that was killed before it cleared it
    state.raising = launcher == "basic"  # the basic launcher runs the jobs in this process; joblib in its workers


def job_started(sweep_dir: Path | None, worker: bool) -> None:
    """A job begins in this process. `worker`: a joblib worker, which takes the signals too and watches the stop file."""
    if worker:
        if not state.installed:
            _take_signals()
        if state.sweep_dir != sweep_dir:  # a worker can outlive a sweep (loky reuses its workers)
            state.signum, state.sweep_dir = None, sweep_dir
        if state.watcher is None:
            state.watcher = threading.Thread(target=_watch, name="stop-file watcher", daemon=True)
            state.watcher.start()
    state.raising = state.installed


def check() -> None:
    """A point where a run that noted a signal without raising it (the command's process under joblib) stops."""
    if state.command and state.signum is not None:
        raise KeyboardInterrupt


def job_ended() -> None:
    state.raising = False


def tables_started() -> None:
    """The sweep's tables are being written: a signal now lets them finish."""
    state.raising = False


def requested() -> int | None:
    """The signal that stopped this run or sweep, if one did."""
    if state.signum is None and not state.command and state.sweep_dir is not None:
        return _read_stop_file(state.sweep_dir)
    return state.signum


def name(signum: int) -> str:
    return signal.Signals(signum).name


def finished() -> None:
    """The command is done: the stop file goes, and the handlers that were there before come back (tests run many commands in one process)."""
    if state.sweep_dir is not None:
        stop_file(state.sweep_dir).unlink(missing_ok=True)
    _give_back_signals()
    state.command, state.sweep_dir = False, None


def stop_file(sweep_dir: Path) -> Path:
    return Path(sweep_dir) / STOP_FILE


def _take_signals() -> None:
    state.previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, _handle)
    state.installed = True
    # A joblib worker starts with SIGINT blocked (launch/joblib_workers.py): from here on it is handled,
    # a Ctrl-C that came while the worker started included.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def _give_back_signals() -> None:
    for signum, handler in state.previous.items():
        signal.signal(signum, handler)
    state.installed, state.raising, state.previous = False, False, {}


def _handle(signum: int, frame) -> None:
    if state.signum is not None:  # a second signal
        if state.command:  # the user insists: end the process as the signal would have
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        return  # a worker takes one signal per sweep (Ctrl-C reaches it both from the terminal and from the stop file)
    state.signum = signum
    if state.command and state.sweep_dir is not None:
        try:
            stop_file(state.sweep_dir).write_text(str(signum))
        except OSError:  # no sweep folder yet: no job runs elsewhere to tell
            pass
    if state.command:  # os.write, not print: printing while the interrupted code prints raises "reentrant call"
        os.write(2, f"\n{name(signum)}: stopping; the running job is recorded (a second {name(signum)} ends at once)\n".encode())
    if state.raising:
        raise KeyboardInterrupt


def _read_stop_file(sweep_dir: Path) -> int | None:
    try:
        return int(stop_file(sweep_dir).read_text() or signal.SIGINT)
    except (OSError, ValueError):
        return None


def _watch() -> None:
    """A worker's thread: the stop file, once there, becomes a signal to this process (handled in its main thread)."""
    while True:
        time.sleep(WATCH_INTERVAL_S)
        if state.signum is None and state.sweep_dir is not None and (signum := _read_stop_file(state.sweep_dir)) is not None:
            os.kill(os.getpid(), signum)
