"""A sweep the cluster refuses to take (sbatch exits non-zero: no such partition, a limit, no cluster)
is bad input like any other: one line naming what sbatch said, exit code 2, instead of submitit's
FailedJobError traceback. Nothing was submitted, so nothing else needs recording."""

from __future__ import annotations

from lenet_lab.errors import UserError


def refused_submission(error: BaseException) -> UserError | None:
    """The UserError for submitit's "the submission command failed" (FailedJobError, raised with the
    command's stderr when sbatch refuses), or None for any other error (and without submitit)."""
    try:
        from submitit.core.utils import FailedJobError
    except ImportError:
        return None
    if not isinstance(error, FailedJobError):
        return None
    said = " ".join(str(error).split())  # sbatch's stderr, which submitit has also shown as it came
    return UserError(f"the cluster refused the sweep's jobs: {said} (the sbatch script is in the sweep folder's .submitit/)")
