"""Prediction on handwriting that is not MNIST: trained jobs against other writers, pens and cameras.

    python benchmarks/foreign_digits.py JOB_DIR [JOB_DIR ...] [--styles scan pen ...] [--half choice|report|all]
        [--keep-stroke-width] [--save-pictures DIR]

The digits: scikit-learn's copy of the UCI "optical recognition of handwritten digits" set (1,797
digits by 43 writers who are not MNIST's, each an 8x8 grid of ink counts 0-16; `pip install
'lenet_lab[handwriting]'`, no download). handwriting_styles.py turns each into the picture a user
would hand over: a small scan, the strokes redrawn with a pen of MNIST's width, a fine pen, a
marker, slanted, small and off-centre on a page, photographed. Each picture is written as a file and
read by `lenet_lab.predict`'s own preprocessing (`evaluation/digit_images.py`).

The table gives each job's accuracy per style with its 95% Wilson interval, and its MNIST test
accuracy for scale. `--half choice` scores the first 900 digits only, the half on which the
preprocessing's stroke-width rule was chosen; `--half report` the other 897, which chose nothing.
`--keep-stroke-width` turns that rule off, to measure what it does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from handwriting_styles import STYLES

from lenet_lab import job_folder
from lenet_lab.evaluation.digit_images import load_digit
from lenet_lab.predict import predict_digits
from lenet_lab.reports.statistics import accuracy_interval
from lenet_lab.training.trained_model import load_trained

CHOICE_HALF = 900  # digits [0, 900) chose the preprocessing; [900, 1797) report it
HALVES = {"choice": slice(0, CHOICE_HALF), "report": slice(CHOICE_HALF, None), "all": slice(None)}


def foreign_digits() -> tuple[np.ndarray, np.ndarray]:
    """float [N, 8, 8] ink in [0, 1] and labels [N]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("error: these digits come with scikit-learn: pip install 'lenet_lab[handwriting]'")
    digits = load_digits()
    return digits.images / 16.0, digits.target


def pictures_as_inputs(style: str, ink: np.ndarray, folder: Path, even_width: bool) -> np.ndarray:
    """Each digit drawn in `style`, saved as a PNG file, read back MNIST-style: uint8 [N, 28, 28]."""
    rng = np.random.default_rng(0)  # the same slants, places and lighting every run
    folder.mkdir(parents=True, exist_ok=True)
    inputs = []
    for i, digit in enumerate(ink):
        path = folder / f"{i:04d}.png"
        STYLES[style](digit, rng).save(path)
        inputs.append(load_digit(path, even_width=even_width))
    return np.stack(inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="+", type=Path, help="trained job folders")
    parser.add_argument("--styles", nargs="+", choices=list(STYLES), default=list(STYLES))
    parser.add_argument("--half", choices=list(HALVES), default="report", help="which digits to score (default: the half that chose nothing)")
    parser.add_argument("--keep-stroke-width", action="store_true", help="skip the preprocessing's stroke-width rule")
    parser.add_argument("--save-pictures", type=Path, help="keep the picture files (and the 28x28 inputs, .npy) here, a folder per style")
    args = parser.parse_args()
    try:
        import skimage  # noqa: F401  (handwriting_styles draws pen strokes with it)
    except ImportError:
        sys.exit("error: the pen styles need scikit-image: pip install 'lenet_lab[handwriting]'")
    ink, labels = foreign_digits()
    ink, labels = ink[HALVES[args.half]], labels[HALVES[args.half]]
    models = [load_trained(job) for job in args.jobs]
    correct = {}  # (job, style) -> digits right
    with tempfile.TemporaryDirectory() as scratch:
        for style in args.styles:
            folder = (args.save_pictures or Path(scratch)) / style
            inputs = pictures_as_inputs(style, ink, folder, even_width=not args.keep_stroke_width)
            if args.save_pictures:
                np.save(folder / "mnist_style.npy", inputs)
            for job, trained in zip(args.jobs, models):
                predicted = predict_digits(trained.model, inputs, trained.cfg.data.normalize, trained.cfg.data.pad).argmax(1).numpy()
                correct[job, style] = int((predicted == labels).sum())
            print(f"{style}: done", file=sys.stderr, flush=True)

    n = len(labels)
    rule = "stroke width left as drawn" if args.keep_stroke_width else "strokes outside MNIST's widths redrawn"
    print(f"{n:,} digits by 43 writers (UCI optdigits via scikit-learn, half: {args.half}); preprocessing: {rule}\n")
    print("| job | MNIST test % | " + " | ".join(f"{style} % (95% CI)" for style in args.styles) + " |")
    print("|---|---:|" + "---:|" * len(args.styles))
    for job, trained in zip(args.jobs, models):
        mnist = (job_folder.read_metrics(trained.job_dir) or {}).get("test/acc")
        cells = []
        for style in args.styles:
            low, high = accuracy_interval(correct[job, style], n)
            cells.append(f"{100 * correct[job, style] / n:.2f} ({100 * low:.1f}-{100 * high:.1f})")
        print(f"| {job.name} | {'-' if mnist is None else f'{100 * mnist:.2f}'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
