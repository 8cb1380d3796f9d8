"""Sweeps on a SLURM cluster without accounting: say so once, and read the jobs' states from scontrol.

submitit (hydra/launcher=slurm) asks `sacct` for the state of a sweep's jobs, at 0, 2, 4, 8, ... s
and then every 10 minutes. Where accounting storage is off (AccountingStorageType=accounting_storage/none,
as on many small clusters) every call fails: sacct prints "Slurm accounting storage is disabled" and
submitit a "Bypassing sacct error ..., status may be inaccurate" warning that its two handlers and
Hydra's print three times, on every poll. Worse, submitit then never learns that a job ended without
writing its result (cancelled, killed at its time limit, its node lost), and waits for it forever.

`submitit_patch.install()` (run.py calls it) gives submitit's SLURM jobs a watcher that runs sacct with its error
captured, and on the first "accounting storage is disabled" says so in one line and from then on
asks `scontrol show job`, which knows a job until MinJobAge (default 5 minutes) after it ended. A job
scontrol no longer knows has ended; submitit then reports it as a job that left no result.
Every other sacct error is still reported, once per distinct error. (Lightning's advice to prepend
`srun`, given on any machine that has srun, is silenced in startup.py.)
"""

from __future__ import annotations

import logging
import subprocess
import time

log = logging.getLogger("lenet_lab")

ACCOUNTING_OFF = "accounting storage is disabled"
# scontrol's job states that submitit's list of unfinished ones (READY, PENDING, RUNNING, UNKNOWN,
# REQUEUED, COMPLETING, PREEMPTED) lacks; any state not in that list counts as finished.
STILL_RUNNING = {"CONFIGURING": "RUNNING", "RESIZING": "RUNNING", "SUSPENDED": "RUNNING", "SIGNALING": "RUNNING",
                 "STOPPED": "RUNNING", "STAGE_OUT": "COMPLETING", "REQUEUE_HOLD": "REQUEUED", "REQUEUE_FED": "REQUEUED",
                 "RESV_DEL_HOLD": "PENDING", "SPECIAL_EXIT": "REQUEUED"}  # fmt: skip
GONE = "ENDED_UNKNOWN"  # a job scontrol no longer knows: it ended, how is no longer on record


def task_ids(spec: str) -> list[str]:
    """scontrol's ArrayTaskId ("3", "0-2", "4-7%2", "1,3-4") as single task numbers."""
    ids = []
    for part in spec.split("%")[0].split(","):
        first, _, last = part.partition("-")
        ids += [str(i) for i in range(int(first), int(last or first) + 1)]
    return ids


def read_scontrol(text: str) -> dict[str, dict[str, str]]:
    """`scontrol -o show job` (one line per job or array task) -> submitit's info by job id ("12", "12_3")."""
    info = {}
    for line in text.splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        if "JobId" not in fields:
            continue
        state = fields.get("JobState", "UNKNOWN")
        record = {"JobID": fields["JobId"], "State": STILL_RUNNING.get(state, state), "NodeList": fields.get("NodeList", ""), "Reason": fields.get("Reason", "")}
        array, tasks = fields.get("ArrayJobId"), fields.get("ArrayTaskId")
        if array and tasks:
            for task in task_ids(tasks):
                info[f"{array}_{task}"] = record
        else:
            info[fields["JobId"]] = record
    return info


def watcher_class():
    from submitit.slurm.slurm import SlurmInfoWatcher

    class AccountingFreeWatcher(SlurmInfoWatcher):
        """submitit's watcher, asking scontrol instead of sacct once sacct says accounting is off."""

        accounting_off = False
        reported: set[str] = set()

        def update(self) -> None:
            command = self._make_command()  # sacct for the array jobs still running; None when none is
            if command is None:
                return
            self._num_calls += 1
            main_ids = [command[i + 1] for i, arg in enumerate(command[:-1]) if arg == "-j"]
            if not self.accounting_off:
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode == 0:
                    self._info_dict.update(self.read_info(done.stdout))
                elif ACCOUNTING_OFF in done.stderr:
                    type(self).accounting_off = True
                    log.warning("SLURM accounting is off on this cluster (sacct: %s): job states come from scontrol", done.stderr.strip())
                else:
                    self.report(f"sacct failed ({done.stderr.strip() or done.returncode}): job states may be out of date")
            if self.accounting_off:
                for main_id in main_ids:
                    self.ask_scontrol(main_id)
            self._last_status_check = time.time()
            for job_id in self._registered - self._finished:
                if self.is_done(job_id, mode="cache"):
                    self._finished.add(job_id)

        def ask_scontrol(self, main_id: str) -> None:
            done = subprocess.run(["scontrol", "-o", "show", "job", main_id], capture_output=True, text=True)
            if done.returncode == 0:
                self._info_dict.update(read_scontrol(done.stdout))
            elif "Invalid job id" in done.stderr:  # ended more than MinJobAge ago
                for job_id in self._registered - self._finished:
                    if job_id.split("_")[0] == main_id and self._info_dict.get(job_id, {}).get("State") != GONE:
                        self._info_dict[job_id] = {"JobID": job_id, "State": GONE, "NodeList": ""}
            else:
                self.report(f"scontrol failed ({done.stderr.strip() or done.returncode}): job states may be out of date")

        @classmethod
        def report(cls, message: str) -> None:
            if message not in cls.reported:
                cls.reported.add(message)
                log.warning(message)

    return AccountingFreeWatcher
