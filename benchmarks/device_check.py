"""One device check: what only a GPU shows, in one run of under 8 minutes, as one Markdown table.

    bash benchmarks/device_check.sh OUT [--setup]     # on the GPU machine (sets up .device/ first: device_env.sh)
    python benchmarks/device_check.py OUT [--smoke]   # the same, where hydra and the data are already there
        [--sections tests throughput speedrun resnet18] [--limit throughput=300] [--work DIR]

Sections, each in a process of its own with its own time limit; a failure or a time-out is a row of
the table and the next section still runs:

  env         Python, torch, Lightning, Hydra, the CUDA device
  tests       pytest -m cuda (tests/test_cuda.py): one row per test
  throughput  benchmarks/throughput.py --quick --repeats 3: framework vs the hand-written loop, on CUDA
  speedrun    benchmarks/time_to_accuracy.py trainer.precision=bf16-mixed: time to 99% test accuracy
  resnet18    python run.py model=resnet18 epochs=1 trainer.accelerator=gpu: one epoch's time

Without CUDA the last three are rows saying "skipped: no CUDA" (the tests skip themselves); --smoke
runs them on the CPU instead, cut short, to try this script where no GPU is. OUT gets
device_check.md (the table) and each section's log (7 files in all). Real MNIST: LENET_LAB_DATA,
else ../shared/data. Job folders go to a temporary folder (--work to keep them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PY = sys.executable
# Seconds per section: together, with device_env.sh's set-up (~10 s), under 8 minutes. Expected on one
# H200 (estimates, not measured yet): env ~5, tests ~100, throughput ~150 (its batch-1 rows are the
# slowest, last, and may be cut), speedrun ~20, resnet18 ~30. (env: importing torch and Lightning
# takes up to ~20 s on a busy 2-core machine.)
LIMITS = {"env": 35, "tests": 160, "throughput": 160, "speedrun": 45, "resnet18": 60}

ENV_PROBE = """
import json, platform, torch, lightning
info = {"python": platform.python_version(), "torch": torch.__version__, "lightning": lightning.__version__,
        "cuda": torch.cuda.is_available(), "gpus": torch.cuda.device_count()}
if info["cuda"]:
    info["device"] = torch.cuda.get_device_name(0)
try:
    import hydra
    info["hydra"] = hydra.__version__
except ImportError as error:
    info["hydra"] = f"missing ({error})"
print("ENV " + json.dumps(info))
"""


@dataclass
class Outcome:
    returncode: int | None  # None: stopped at its time limit
    seconds: float
    lines: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def last_lines(self, n: int = 1) -> str:
        meaningful = [line.strip() for _, line in self.lines if line.strip()]
        return " / ".join(meaningful[-n:])

    def status(self, limit: float) -> str | None:
        """None when it ran to a clean end; else what went wrong, in a few words."""
        if self.returncode is None:
            return f"timed out after {limit:.0f} s"
        if self.returncode != 0:
            return f"failed (exit {self.returncode}): {self.last_lines()}"
        return None


def run_section(command: list[str], limit: float, log: Path, env: dict) -> Outcome:
    """Run `command` from the project root, its output (stdout and stderr) streamed into `log` with
    timestamps kept; stopped with its whole process group after `limit` seconds."""
    started = time.perf_counter()
    outcome = Outcome(returncode=None, seconds=0.0)
    with open(log, "w") as f:
        f.write(f"$ {' '.join(command)}\n")
        f.flush()
        process = subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # its own process group: a time-out ends its children too
        )  # fmt: skip

        def read():
            for line in process.stdout:
                outcome.lines.append((time.perf_counter() - started, line.rstrip("\n")))
                f.write(line)
                f.flush()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            outcome.returncode = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(process.pid, sig)
                    process.wait(timeout=grace)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
            f.write(f"\n[device_check] stopped at its time limit of {limit:.0f} s\n")
        reader.join(timeout=5)
    outcome.seconds = time.perf_counter() - started
    return outcome


def cell(text: str, width: int = 220) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


class Check:
    def __init__(self, out: Path, work: Path, smoke: bool, budget: float):
        self.out, self.work, self.smoke = out, work, smoke
        self.rows: list[tuple[str, str, str, str]] = []
        self.deadline = time.perf_counter() + budget
        self.cuda = False
        self.no_cuda_reason = "no CUDA"  # until the env probe says otherwise
        self.failed = False
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))
        if "LENET_LAB_DATA" not in self.env and (PROJECT.parent / "shared" / "data").is_dir():
            self.env["LENET_LAB_DATA"] = str(PROJECT.parent / "shared" / "data")  # as benchmarks/common.py reads it

    def row(self, section: str, what: str, result: str, seconds: float | None, failed: bool = False) -> None:
        self.rows.append((section, what, result, "" if seconds is None else f"{seconds:.1f}"))
        self.failed |= failed
        print(f"[device_check] {section}: {what}: {result}" + ("" if seconds is None else f" ({seconds:.1f} s)"), flush=True)

    def section(self, name: str, command: list[str]) -> tuple[Outcome, float] | None:
        limit = min(LIMITS[name], self.deadline - time.perf_counter())
        if limit < 5:
            self.row(name, "(whole section)", "skipped: the check's time budget is spent", None, failed=True)
            return None
        shown = " ".join(command[1:] if command[1] != "-c" else ["(probe)"])
        print(f"[device_check] {name}: {shown} (limit {limit:.0f} s)", flush=True)
        return run_section(command, limit, self.out / f"{name}.log", self.env), limit

    def needs_cuda(self, name: str) -> bool:
        if self.cuda or self.smoke:
            return True
        self.row(name, "(whole section)", f"skipped: {self.no_cuda_reason}", None)
        return False

    # --- sections -------------------------------------------------------------------------------

    def check_env(self) -> None:
        ran = self.section("env", [PY, "-c", ENV_PROBE])
        if ran is None:
            return
        outcome, limit = ran
        found = re.search(r"^ENV (\{.*\})$", outcome.text, re.M)
        setup = os.environ.get("LENET_LAB_DEVICE_SETUP")
        if not found:
            self.no_cuda_reason = "the env probe failed (its row)"
            problem = outcome.status(limit) or "no answer"
            self.row("env", "python, torch, GPU", problem + (f"; {setup}" if setup else ""), outcome.seconds, failed=True)
            return
        info = json.loads(found.group(1))
        self.cuda = bool(info["cuda"])
        device = f"{info['device']} ({info['gpus']} GPU)" if self.cuda else "no CUDA"
        result = (
            f"Python {info['python']}, torch {info['torch']}, Lightning {info['lightning']}, Hydra {info['hydra']}; {device}"
            + (f"; {setup}" if setup else "") + ("; --smoke: GPU sections on the CPU, cut short" if self.smoke else "")
        )  # fmt: skip
        self.row("env", "machine", result, outcome.seconds, failed=info["hydra"].startswith("missing"))

    def check_tests(self) -> None:
        xml = self.out / "tests.xml"
        xml.unlink(missing_ok=True)
        ran = self.section("tests", [PY, "-m", "pytest", "-m", "cuda", "-o", "addopts=", "-v", "--continue-on-collection-errors", "-rA", "-p", "no:cacheprovider", f"--junitxml={xml}"])
        if ran is None:
            return
        outcome, limit = ran
        seen = 0
        if xml.is_file() and outcome.returncode is not None:
            for case in ET.parse(xml).getroot().iter("testcase"):
                seen += 1
                name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
                problem = case.find("failure") if case.find("failure") is not None else case.find("error")
                skipped = case.find("skipped")
                if problem is not None:
                    message = " ".join((problem.get("message") or problem.text or problem.tag).split())
                    self.row("tests", name, f"FAILED: {message[:300]}", float(case.get("time", 0)), failed=True)
                elif skipped is not None:
                    self.row("tests", name, f"skipped: {skipped.get('message', '')}", float(case.get("time", 0)))
                else:
                    self.row("tests", name, "passed", float(case.get("time", 0)))
        else:  # stopped before pytest wrote its report: what its -v lines say
            previous = 0.0
            for t, line in outcome.lines:
                found = re.match(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|ERROR)", line)
                if found:
                    seen += 1
                    self.row("tests", found.group(1).split("/")[-1], found.group(2).lower(), t - previous, failed=found.group(2) in ("FAILED", "ERROR"))
                    previous = t
        problem = outcome.status(limit)
        if outcome.returncode in (0, 1) and seen:  # 1: some test failed, and its row says so
            problem = None
        if problem or not seen:
            self.row("tests", "pytest -m cuda", problem or "no test ran (exit 5: none marked cuda?)", outcome.seconds, failed=True)

    def check_throughput(self) -> None:
        if not self.needs_cuda("throughput"):
            return
        options = ["--rows", "mlp", "--repeats", "1"] if self.smoke else ["--repeats", "3"]
        ran = self.section("throughput", [PY, "benchmarks/throughput.py", "--quick", *options])
        if ran is None:
            return
        outcome, limit = ran
        row = re.compile(r"^\| (\w+) \| (\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+ \([\d.]+-[\d.]+\)) \| ([\d.]+) \|$")
        previous, rows = 0.0, 0
        for t, line in outcome.lines:
            found = row.match(line)
            if found:
                model, batch, hand, bare, fw, ratio, vs_bare = found.groups()
                self.row(
                    "throughput", f"{model}, batch {batch}: framework / hand-written (range)",
                    f"{ratio}; img/s: hand-written {hand}, framework {fw}, bare Lightning {bare} (framework / bare {vs_bare})",
                    t - previous,
                )  # fmt: skip
                previous, rows = t, rows + 1
        problem = outcome.status(limit)
        if problem or not rows:
            self.row("throughput", "rows not measured" if rows else "(whole section)", problem or "no row printed", outcome.seconds, failed=True)

    def check_speedrun(self) -> None:
        if not self.needs_cuda("speedrun"):
            return
        overrides = ["trainer.precision=bf16-mixed"] + (["epochs=1", "++trainer.limit_train_batches=20"] if self.smoke else [])
        ran = self.section("speedrun", [PY, "benchmarks/time_to_accuracy.py", *overrides])
        if ran is None:
            return
        outcome, limit = ran
        what = "+experiment=speedrun " + " ".join(overrides) + ": time to 99% test accuracy"
        epochs = re.findall(r"^\| (\d+) \| ([\d.]+) \| ([\d.]+) \|$", outcome.text, re.M)
        reached = re.search(r"99.0% reached after (\d+) epochs, ([\d.]+) s of training", outcome.text)
        problem = outcome.status(limit)
        if problem:
            self.row("speedrun", what, problem, outcome.seconds, failed=True)
        elif reached:
            accuracy = epochs[int(reached.group(1)) - 1][2] if len(epochs) >= int(reached.group(1)) else "?"
            self.row("speedrun", what, f"{reached.group(2)} s of training, {reached.group(1)} epochs (test {accuracy}%)", outcome.seconds)
        elif epochs:
            per_epoch = ", ".join(f"{acc}%" for _, _, acc in epochs)
            self.row("speedrun", what, f"99.0% not reached in {epochs[-1][1]} s of training; test accuracy by epoch: {per_epoch}", outcome.seconds, failed=not self.smoke)
        else:
            self.row("speedrun", what, f"no result: {outcome.last_lines()}", outcome.seconds, failed=True)

    def check_resnet18(self) -> None:
        if not self.needs_cuda("resnet18"):
            return
        job = self.work / "resnet18"
        accelerator = "cpu" if self.smoke and not self.cuda else "gpu"
        short = ["++trainer.limit_train_batches=3", "++trainer.limit_val_batches=1", "++trainer.limit_test_batches=1"] if self.smoke else []
        overrides = ["model=resnet18", "epochs=1", f"trainer.accelerator={accelerator}", *short]
        ran = self.section("resnet18", [PY, "run.py", *overrides, f"hydra.run.dir={job}"])
        if ran is None:
            return
        outcome, limit = ran
        what = "python run.py " + " ".join(overrides) + ": one epoch"
        metrics_file = job / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        with open(self.out / "resnet18.log", "a") as f:
            f.write(f"\n[device_check] {metrics_file}:\n{json.dumps(metrics, indent=2)}\n")
        epoch = re.search(r"epoch 1/1 .*\s([\d.]+)s$", outcome.text, re.M)
        problem = outcome.status(limit)
        if problem or metrics.get("status") != "completed":
            self.row("resnet18", what, problem or f"status {metrics.get('status')}: {metrics.get('error', '')}", outcome.seconds, failed=True)
            return
        self.row(
            "resnet18", what,
            f"train_time_s (training and validation) {metrics['train_time_s']:.1f} s, the epoch line {epoch.group(1) if epoch else '?'} s; "
            f"test/acc {100 * metrics['test/acc']:.2f}%; {outcome.seconds:.0f} s for the whole command",
            metrics["train_time_s"],
        )  # fmt: skip

    # --- the table ------------------------------------------------------------------------------

    def table(self) -> str:
        lines = ["| section | what | result | time (s) |", "|---|---|---|---:|"]
        lines += [f"| {cell(s)} | {cell(w)} | {cell(r, 400)} | {t} |" for s, w, r, t in self.rows]
        return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the table (device_check.md) and the logs")
    parser.add_argument("--smoke", action="store_true", help="without CUDA, run the GPU sections on the CPU, cut short (to try this script)")
    parser.add_argument("--work", type=Path, help="folder for the job folders (default: a temporary one)")
    parser.add_argument("--sections", nargs="+", choices=list(LIMITS), default=list(LIMITS), help="only these (default: all)")
    parser.add_argument("--limit", action="append", default=[], metavar="SECTION=SECONDS", help="another time limit for a section, e.g. throughput=300")
    parser.add_argument("--budget", type=float, help="seconds for all sections together (default: the sum of their limits, 460 unless --limit changes one)")
    args = parser.parse_args()
    for item in args.limit:
        name, _, seconds = item.partition("=")
        if name not in LIMITS or not seconds.replace(".", "", 1).isdigit():
            parser.error(f"--limit {item}: expected SECTION=SECONDS with SECTION one of {', '.join(LIMITS)}")
        LIMITS[name] = float(seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="device_check_"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    check = Check(args.out.resolve(), work.resolve(), args.smoke, args.budget or sum(LIMITS.values()))
    for name in LIMITS:
        if name != "env" and name not in args.sections:
            continue
        step = getattr(check, f"check_{name}")
        try:
            step()
        except Exception as error:  # a bug here must not cost the other sections
            check.row(name, "(device_check itself)", f"error: {type(error).__name__}: {error}", None, failed=True)
    header = (
        f"Device check, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `bash benchmarks/device_check.sh OUT`, "
        f"{time.perf_counter() - started:.0f} s in all. Logs: {', '.join(sorted(p.name for p in check.out.iterdir() if p.suffix in ('.log', '.xml')))}."
    )
    report = f"{header}\n\n{check.table()}\n"
    (check.out / "device_check.md").write_text(report)
    print("\n" + report, flush=True)
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
