"""A job SLURM kills for using more memory than it asked for: recorded failed with SLURM's reason, the others complete.

The cluster of tests/test_slurm.py does not watch memory (no cgroups in a container). This one
samples each job's memory every second and kills a job over its request (jobacct_gather/linux with
OverMemoryKill), as a cluster without cgroups does; it starts for this file alone.
"""

from __future__ import annotations

import pytest

from tests import slurm_cluster
from tests.slurm_cluster import start_cluster
from tests.test_launchers import job_dirs, metrics, results
from tests.test_slurm import SECOND_CLUSTER, run_sweep, skip_without_slurm

pytestmark = SECOND_CLUSTER  # in the worker of test_slurm.py's second group, after its tests

MEMORY_WATCH = "JobAcctGatherType=jobacct_gather/linux\nJobAcctGatherFrequency=task=1\nJobAcctGatherParams=OverMemoryKill\n"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    skip_without_slurm()
    plain = slurm_cluster.slurm_conf

    def watching_memory(*args):
        # CR_Core_Memory: memory is a resource SLURM allots, so a job's request becomes its limit.
        return plain(*args).replace("JobAcctGatherType=jobacct_gather/none\n", MEMORY_WATCH).replace("CR_Core\n", "CR_Core_Memory\n")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(slurm_cluster, "slurm_conf", watching_memory)
        cluster = start_cluster(tmp_path_factory.mktemp("slurm_memory"))
    yield cluster
    cluster.stop()


@pytest.mark.slurm
def test_a_job_killed_for_its_memory_is_recorded_failed_and_the_others_complete(cluster, mnist_root, tmp_path):
    # Both ask for 2 GB (a job of one array asks what the others do): job 0's 600 million weights
    # (2.4 GB) don't fit, job 1's MLP does (about 1.1 GB at its peak).
    sweep = tmp_path / "sweep"
    result = run_sweep(
        cluster, "hydra.launcher.mem_gb=2", "model=mlp", "model.hidden=[24000,24000],[32]", "epochs=1",
        "data.val_size=20", f"hydra.sweep.dir={sweep}", cwd=tmp_path, data=mnist_root, timeout=240,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    recorded = [metrics(job) for job in job_dirs(sweep)]
    assert [m["status"] for m in recorded] == ["failed", "completed"], recorded
    # SLURM calls it FAILED (or OUT_OF_MEMORY where cgroups see it); slurmstepd's line in the job's log says why.
    assert recorded[0]["error"].startswith("SLURM ended the job: ") and "exceeded memory limit" in recorded[0]["error"], recorded[0]
    assert [row["status"] for row in results(sweep)] == ["failed", "completed"]
