"""Prediction on handwriting that is not MNIST: trained jobs against digits from other writers.

    python benchmarks/foreign_digits.py JOB_DIR [JOB_DIR ...] [--save-pictures DIR]

The digits: scikit-learn's copy of the UCI "optical recognition of handwritten digits" set
(1,797 digits by 43 writers who are not MNIST's, scanned on other equipment, each stored as an 8x8
grid of ink counts 0-16; `pip install scikit-learn`, no download). Each one is written the way a
user's scan would arrive: dark ink on white paper, enlarged to 64x64 (bicubic), a PNG file; then
`lenet_lab.predict` reads it like any picture (`evaluation/digit_images.py`: polarity, background,
crop, 20-pixel box, centre of mass). The table gives each job's accuracy with its 95% Wilson
interval (1,797 digits) and its MNIST test accuracy for scale, and the digits most often missed.
These digits are coarse (8x8: their strokes are blocks); they test the preprocessing and a
model's tolerance of other pens, not fine detail.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from lenet_lab import job_folder
from lenet_lab.evaluation.digit_images import load_digit
from lenet_lab.predict import predict_digits
from lenet_lab.reports.statistics import accuracy_interval
from lenet_lab.training.trained_model import load_trained

SIDE = 64  # the enlarged picture: a small scan


def foreign_digits() -> tuple[np.ndarray, np.ndarray]:
    """uint8 [N, 8, 8] ink (0 paper .. 255 full ink) and labels [N]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("error: these digits come with scikit-learn: pip install scikit-learn")
    digits = load_digits()
    return np.round(digits.images * 255 / 16).astype(np.uint8), digits.target


def write_pictures(ink: np.ndarray, folder: Path) -> list[Path]:
    """Dark ink on white paper, SIDE x SIDE, one PNG per digit."""
    paths = []
    for i, digit in enumerate(ink):
        path = folder / f"{i:04d}.png"
        Image.fromarray(255 - digit).resize((SIDE, SIDE), Image.Resampling.BICUBIC).save(path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="+", type=Path, help="trained job folders")
    parser.add_argument("--save-pictures", type=Path, help="keep the PNG files (and the 28x28 inputs) here")
    args = parser.parse_args()
    ink, labels = foreign_digits()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.save_pictures or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        mnist_style = np.stack([load_digit(path) for path in write_pictures(ink, folder)])
    if args.save_pictures:
        np.save(args.save_pictures / "mnist_style.npy", mnist_style)
    print(f"{len(labels):,} digits by 43 writers (UCI optdigits via scikit-learn), as {SIDE}x{SIDE} scans\n")
    print("| job | MNIST test accuracy % | these digits: accuracy % (95% CI) | most often missed (true->predicted) |")
    print("|---|---:|---:|---|")
    for job in args.jobs:
        trained = load_trained(job)
        predicted = predict_digits(trained.model, mnist_style, trained.cfg.data.normalize, trained.cfg.data.pad).argmax(1).numpy()
        correct = int((predicted == labels).sum())
        low, high = accuracy_interval(correct, len(labels))
        missed = Counter(f"{t}->{p}" for t, p in zip(labels, predicted) if t != p).most_common(3)
        mnist = (job_folder.read_metrics(trained.job_dir) or {}).get("test/acc")
        print(
            f"| {job} | {100 * mnist:.2f} | {100 * correct / len(labels):.2f} ({100 * low:.1f}-{100 * high:.1f}) "
            f"| {', '.join(f'{pair} ({n})' for pair, n in missed)} |" if mnist is not None else f"| {job} | - | {100 * correct / len(labels):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
