"""Where a sweep's numbers come from: the command line that made it, the versions, the machine.

The command is Hydra's record of the sweep (multirun.yaml in the sweep folder). A job records no
device name or package versions of its own: what is shown for those is the machine and the
packages that wrote this report, beside the accelerator each job's config asked for.
"""

from __future__ import annotations

import os
import platform
import shlex
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from lenet_lab.reports.html.elements import escape, frame_table
from lenet_lab.reports.jobs import Job

PACKAGES = ("lenet_lab", "torch", "lightning", "torchmetrics", "hydra-core", "pandas", "matplotlib", "scipy")
MULTIRUN_RECORD = "multirun.yaml"  # Hydra writes it into the sweep folder when a multirun starts


def sweep_command(sweep_dir: Path) -> str | None:
    """`python run.py -m ...` as the sweep was started, from Hydra's multirun.yaml; None without one."""
    try:
        record = (yaml.safe_load((sweep_dir / MULTIRUN_RECORD).read_text()) or {}).get("hydra") or {}
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    overrides = record.get("overrides") or {}
    hydra = [o for o in overrides.get("hydra") or [] if o != "hydra.mode=MULTIRUN"]  # that is what -m says
    script = f"{(record.get('job') or {}).get('name') or 'run'}.py"
    return shlex.join(["python", script, "-m", *hydra, *(overrides.get("task") or [])])


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> str:
    """This machine: system, CPU and, where torch sees any, its CUDA devices by name."""
    import torch  # here, not at the top: the report's other sections never need it

    parts = [f"{platform.system()} {platform.machine()}", f"{os.cpu_count()} CPU cores ({cpu_name()})"]
    if torch.cuda.is_available():
        parts += [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return "; ".join(parts)


def cpu_name() -> str:
    """The CPU's model name: Linux says it in /proc/cpuinfo, where platform.processor() is often empty."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def accelerators(summary: pd.DataFrame, jobs: dict[str, Job]) -> str:
    """What the jobs' configs asked for: "cpu × 12", "gpu (devices 1) × 4"."""
    asked = []
    for path in summary["path"]:
        trainer = (jobs[path].config or {}).get("trainer") or {}
        accelerator = str(trainer.get("accelerator", "?"))
        devices = trainer.get("devices")
        # The record keeps interpolations unresolved (${job_devices:...}): only a plain number says something.
        asked.append(accelerator + (f" (devices {devices})" if isinstance(devices, int) and devices != 1 else ""))
    counts = pd.Series(asked).value_counts()
    return ", ".join(f"{name} × {n}" for name, n in counts.items())


def provenance_html(sweep_dir: Path, summary: pd.DataFrame, jobs: dict[str, Job]) -> str:
    command = sweep_command(sweep_dir)
    lines = [
        f"<p>command: <code>{escape(command)}</code></p>" if command else "<p class=muted>command: not recorded (no multirun.yaml: not one Hydra multirun)</p>",
        f"<p>jobs' trainer.accelerator: {escape(accelerators(summary, jobs))}</p>",
        f"<p>this report: written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {escape(machine())}</p>",
    ]
    found = versions()
    lines.append(frame_table(pd.DataFrame({"package": list(found), "version": list(found.values())}), css_class="plain"))
    return "\n".join(lines)
