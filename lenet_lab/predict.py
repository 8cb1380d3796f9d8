"""Predict the digit in your own pictures with a trained job's model.

    python -m lenet_lab.predict JOB_DIR_OR_CKPT IMAGE_OR_FOLDER... [--csv FILE] [--show-preprocessed DIR] [--device cuda]

Each picture is made MNIST-like first (`lenet_lab.evaluation.digit_images`), then normalised and padded as
the job's training data were. One line per picture: file, predicted digit, its probability, and
the runner-up. Probabilities are the softmax of the model's class scores (for the 1998 LeNet-5:
of minus its RBF penalties). A file that can't be read is one line on stderr; the others are still
predicted, and the exit code is 1 at the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from lenet_lab import startup  # noqa: F401  (an entry point: resolvers, warning filters)
from lenet_lab.data.pixels import to_inputs
from lenet_lab.errors import UserError, command, report
from lenet_lab.evaluation.digit_images import ImageError, find_images, load_digit
from lenet_lab.metrics import percent
from lenet_lab.training.trained_model import load_trained, scores_of


def predict_digits(model: torch.nn.Module, digits: np.ndarray, normalize: str, pad: int) -> torch.Tensor:
    """uint8 [N, 28, 28] MNIST-style digits -> probabilities [N, classes]."""
    inputs = to_inputs(torch.from_numpy(np.ascontiguousarray(digits)), normalize, pad)
    return torch.softmax(scores_of(model, inputs), dim=1)


def prediction_table(files: list[Path], probabilities: torch.Tensor) -> pd.DataFrame:
    """One row per file: prediction and probability, runner-up and its probability, then every class's."""
    top = probabilities.topk(2, dim=1)
    table = pd.DataFrame(
        {
            "file": [str(f) for f in files],
            "prediction": top.indices[:, 0].numpy(),
            "probability": top.values[:, 0].numpy(),
            "runner_up": top.indices[:, 1].numpy(),
            "runner_up_probability": top.values[:, 1].numpy(),
        }
    )
    for c in range(probabilities.shape[1]):
        table[f"p{c}"] = probabilities[:, c].numpy()
    return table


def format_lines(table: pd.DataFrame) -> list[str]:
    width = max(len(f) for f in table.file)
    return [
        f"{row.file:<{width}}  {row.prediction}  {percent(row.probability):>7}   runner-up {row.runner_up} {percent(row.runner_up_probability):>7}"
        for row in table.itertuples()
    ]


def save_preprocessed(folder: Path, files: list[Path], digits: np.ndarray) -> None:
    """Each 28x28 digit as the model saw it (before normalisation and padding), as <name>.png;
    a name already taken (same name in two folders) gets a number."""
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for file, digit in zip(files, digits):
        name, k = f"{file.stem}.png", 2
        while name in taken:
            name, k = f"{file.stem}_{k}.png", k + 1
        taken.add(name)
        Image.fromarray(digit).save(folder / name)


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_lab.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a job folder (with checkpoints/last.ckpt) or a checkpoint file")
    parser.add_argument("images", nargs="+", help="picture files, or folders of them")
    parser.add_argument("--csv", type=Path, help="also write the predictions, with every class's probability, to this CSV file")
    parser.add_argument("--show-preprocessed", type=Path, metavar="DIR", help="save the 28x28 digits the model saw into DIR")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    trained = load_trained(args.model)
    files = find_images(args.images)
    if not files:
        raise UserError(f"no picture files in {', '.join(args.images)}")
    good, digits, failed = [], [], 0
    for file in files:
        try:
            digits.append(load_digit(file))
            good.append(file)
        except ImageError as error:
            report(error)  # this picture only: the others are still predicted
            failed += 1
    if good:
        digits = np.stack(digits)
        table = prediction_table(good, predict_digits(trained.model.to(args.device), digits, trained.cfg.data.normalize, trained.cfg.data.pad))
        print("\n".join(format_lines(table)), flush=True)
        if args.csv:
            table.to_csv(args.csv, index=False)
        if args.show_preprocessed:
            save_preprocessed(args.show_preprocessed, good, digits)
    if failed:
        print(f"{failed} of {len(files)} files could not be read", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
