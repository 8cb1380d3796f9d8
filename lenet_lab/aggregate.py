"""Aggregate sweeps' job folders into comparison tables and figures.

    python -m lenet_lab.aggregate outputs/multirun/2026-11-27/10-00-00
    python -m lenet_lab.aggregate outputs/ --group-by model --metrics test/acc --no-plots

Writes results.csv, comparison.csv, curves.csv, results.md, report.html (and published.*, figures; results.tex with --format tex) into the
folder (lenet_lab.reports.sweep_report); the same runs by itself at the end of every multirun.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from lenet_lab import startup  # noqa: F401  (an entry point: resolvers, warning filters)
from lenet_lab.errors import UserError, command
from lenet_lab.reports.sweep_report import aggregate
from lenet_lab.reports.tables import DEFAULT_METRICS

__all__ = ["aggregate", "main"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lenet_lab.aggregate", description="Aggregate sweeps' logs into comparison tables and figures.")
    parser.add_argument("paths", nargs="+", help="a sweep folder, a job folder, or any folder above many sweeps")
    parser.add_argument("--metrics", nargs="+", help=f"metrics of the comparison (default: {' '.join(DEFAULT_METRICS)})")
    parser.add_argument("--metric", help="the validation metric groups are ranked on and the reference is chosen on (default: val/acc); groups are judged on its test counterpart")
    parser.add_argument("--baseline", help="compare every group with this one instead, e.g. optimizer=sgd or model=lenet,optimizer=sgd")
    parser.add_argument("--group-by", nargs="*", help="override keys to group by (default: the swept ones except seed)")
    parser.add_argument("--out", help="where to write the tables and figures (default: the PATH itself, or the common parent of several)")
    parser.add_argument("--format", nargs="+", choices=["csv", "md", "html", "tex"], default=["csv", "md", "html"], dest="formats", help="html: report.html, one self-contained page; tex: results.tex, a booktabs table (default: csv md html)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    return parser.parse_args(argv)


@command
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for path in args.paths:
        if not Path(path).exists():
            raise UserError(f"{path} does not exist")
    with warnings.catch_warnings():  # restores the default display when done
        warnings.showwarning = lambda message, *_, **__: print(f"warning: {message}", file=sys.stderr)
        try:
            result = aggregate(args.paths, args.out, args.metrics, args.group_by, tuple(args.formats), plots=not args.no_plots, metric=args.metric, baseline=args.baseline)
        except (FileNotFoundError, ValueError) as error:  # no jobs there, an unknown metric or key
            raise UserError(str(error)) from error
    print(result["markdown"])
    print(f"\nwritten to {result['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
