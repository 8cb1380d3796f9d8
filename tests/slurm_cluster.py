"""A single-node SLURM cluster in a temporary folder, for the tests of tests/test_slurm.py.

munged, slurmctld and slurmd run in the foreground as children of the test process, with their
configuration, sockets, state and logs in one folder; clients find it through SLURM_CONF. The node
declares more CPUs than the machine has (config_overrides), so that a test can tell SLURM's limits
(array_parallelism) from the machine's. Accounting is off, as on many small clusters.

    apt-get install slurm-wlm munge     # Debian/Ubuntu, as root: what .ci/run does
"""

from __future__ import annotations

import atexit
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "sinfo", "scontrol", "scancel")
INSTALL_HINT = "apt-get install slurm-wlm munge"
NODE_CPUS = 4  # declared; more than a 2-core machine has, so SLURM, not the machine, limits what runs at once
REQUEUE_DELAY_S = 5  # cred_expire: how long a requeued job waits before SLURM starts it again (default 120)


def missing_binaries() -> list[str]:
    return [name for name in (*DAEMONS, *CLIENTS) if not (shutil.which(name) or Path("/usr/sbin", name).exists())]


def binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_name() -> str:
    """This machine's short name if it resolves (Lightning joins a job's processes at that address)."""
    name = socket.gethostname().split(".")[0]
    try:
        socket.gethostbyname(name)
        return name
    except OSError:
        return "localhost"


def memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 512
    return 4096


def slurm_conf(root: Path, node: str, user: str) -> str:
    return f"""\
ClusterName=lenetlab
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root / 'munge.socket'},cred_expire={REQUEUE_DELAY_S}
StateSaveLocation={root / 'state'}
SlurmdSpoolDir={root / 'spool'}
SlurmctldPidFile={root / 'slurmctld.pid'}
SlurmdPidFile={root / 'slurmd.pid'}
SlurmctldLogFile={root / 'slurmctld.log'}
SlurmdLogFile={root / 'slurmd.log'}
PlugStackConfig={root / 'plugstack.conf'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
KillWait=5
MinJobAge=3600
InactiveLimit=0
Waittime=0
NodeName={node} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={memory_mb()} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class Cluster:
    root: Path
    node: str
    user: str = field(default_factory=getpass.getuser)
    env: dict = field(default_factory=dict)  # SLURM_CONF: what clients (sbatch, squeue, ...) need
    processes: list = field(default_factory=list)

    def command(self, *args: str, check: bool = True) -> str:
        return subprocess.run(args, env={**os.environ, **self.env}, capture_output=True, text=True, check=check, timeout=30).stdout

    def jobs(self, states: str | None = None) -> list[dict]:
        """squeue's jobs: id (array tasks as 12_3), state, reason; those pending or running, or `states` as squeue -t takes them."""
        out = self.command("squeue", "-h", "-r", *(("-t", states) if states else ()), "-o", "%i|%T|%r")
        return [dict(zip(("id", "state", "reason"), line.split("|"))) for line in out.splitlines() if line.strip()]

    def running(self) -> list[str]:
        return [job["id"] for job in self.jobs("RUNNING")]

    def show_job(self, job_id: str) -> dict:
        """scontrol's record of a job (kept MinJobAge after it ended): JobState, Restarts, StartTime, ..."""
        out = self.command("scontrol", "-o", "show", "job", job_id)
        return dict(item.split("=", 1) for item in out.split() if "=" in item)

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(
            f"--- {name} ---\n" + "\n".join((self.root / name).read_text(errors="replace").splitlines()[-lines:])
            for name in ("munged.log", "slurmctld.log", "slurmd.log")
            if (self.root / name).exists()
        )

    def wait_until_idle(self, timeout: float = 20) -> None:
        """Every job of the cluster ended (cancelled jobs take KillWait to go)."""
        deadline = time.monotonic() + timeout
        while self.jobs() and time.monotonic() < deadline:
            time.sleep(0.5)

    def clear(self, timeout: float = 30) -> None:
        """Let the jobs still running end (a finished job's processes take a few seconds to exit), then cancel any left."""
        self.wait_until_idle(timeout)
        if self.jobs():
            self.command("scancel", "--user", self.user, check=False)
            self.wait_until_idle()

    def start(self) -> None:
        for folder in ("state", "spool"):
            (self.root / folder).mkdir()
        key = self.root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        (self.root / "plugstack.conf").write_text("")
        conf = self.root / "slurm.conf"
        conf.write_text(slurm_conf(self.root, self.node, self.user))
        self.env = {"SLURM_CONF": str(conf)}
        log = self._log = open(self.root / "daemons.out", "ab")
        atexit.register(self.stop)  # also when the test run is cut short
        self._spawn(
            binary("munged"), "-F", "--force", f"--socket={self.root / 'munge.socket'}", f"--key-file={key}",
            f"--pid-file={self.root / 'munged.pid'}", f"--log-file={self.root / 'munged.log'}",
            f"--seed-file={self.root / 'munged.seed'}", log=log,
        )  # fmt: skip
        self._wait_for(lambda: (self.root / "munge.socket").exists(), "munged did not open its socket")
        self._spawn(binary("slurmctld"), "-D", "-c", "-f", str(conf), log=log)
        self._wait_for(lambda: self.command("scontrol", "ping", check=False).count("UP") >= 1, "slurmctld did not answer")
        self._spawn(binary("slurmd"), "-D", "-f", str(conf), "-N", self.node, log=log)
        self._wait_for(self._node_idle, "the node did not come up idle")

    def _node_idle(self) -> bool:
        state = self.command("sinfo", "-h", "-N", "-o", "%T", check=False).strip()
        return state == "idle"

    def _spawn(self, *args: str, log) -> None:
        # A session of their own: stopping them never touches the test process's group.
        self.processes.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}, start_new_session=True))

    def _wait_for(self, condition, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                break
            try:
                if condition():
                    return
            except (subprocess.SubprocessError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"SLURM test cluster in {self.root}: {what}\n{self.log_tail()}")

    def stop(self) -> None:
        """Cancel every job, wait for them to go, then stop slurmd, slurmctld and munged, in that order."""
        if not self.processes:  # stopped already
            return
        try:
            if self.jobs():
                self.command("scancel", "--user", self.user, check=False)
                self.wait_until_idle()
        except (subprocess.SubprocessError, OSError):
            pass
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
        if getattr(self, "_log", None):
            self._log.close()


def start_cluster(root: Path) -> Cluster:
    cluster = Cluster(root=root, node=node_name())
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
