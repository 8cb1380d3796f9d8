"""THE on-disk contract of a sweep folder, as job_folder.py is a job's: the names of what
aggregation writes beside the job folders. Anything that writes or reads them asks here."""

from __future__ import annotations

from pathlib import Path

RESULTS_CSV = "results.csv"  # one row per job
COMPARISON_CSV = "comparison.csv"  # one row per group: intervals, tests, verdicts
CURVES_CSV = "curves.csv"  # every logged scalar of every job
RESULTS_MD = "results.md"  # the comparison, its rule, failed jobs, every job
PUBLISHED_CSV = "published.csv"  # a sweep file's rows beside their published numbers
PUBLISHED_MD = "published.md"
REPORT_HTML = "report.html"  # one self-contained page of all of it
RESULTS_TEX = "results.tex"  # the comparison as a booktabs table
FIGURES_RUN = "figures"  # the TensorBoard run that holds the figures as images

# Figures of every sweep, and those of a sweep file's sweep.
CURVES_PNG = "curves.png"
TEST_ACC_PNG = "test_acc.png"
TRAIN_TIME_PNG = "train_time.png"
PUBLISHED_PNG = "published.png"
ROW_CURVES_PNG = "row_curves.png"
ROW_ERRORS_PNG = "row_errors.png"
TRAIN_IMAGES_PNG = "train_images.png"


# A tune_then_test sweep (hparams_search=tune_then_test) keeps its trials and its final jobs apart:
# they are never compared in one table.
TUNE_THEN_TEST_PLAN = "tune_then_test.json"  # the grid, the budget, each group's chosen values
TUNING_DIR, FINAL_DIR = "tuning", "final"


def results_md(sweep_dir: str | Path) -> Path:
    return Path(sweep_dir) / RESULTS_MD
