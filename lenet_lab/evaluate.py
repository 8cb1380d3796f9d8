"""Evaluate a finished job from its checkpoint: the per-job evaluation again, plus t-SNE maps.

    python -m lenet_lab.evaluate JOB_DIR                 # evaluation/ files + t-SNE of 1,000 training images
    python -m lenet_lab.evaluate JOB_DIR --n 0           # no t-SNE
    python -m lenet_lab.evaluate JOB_DIR --n 10000 --device cuda    # the model on a GPU; t-SNE (openTSNE) on the CPU

The model is rebuilt from the config the checkpoint carries and tested on the official test set
read from the job's data folder (or LENET_LAB_DATA, or --data-root). Files go to JOB_DIR/evaluation/
(see `lenet_lab.evaluation.job_evaluation`), and with --n > 0 also:

    tsne.png    t-SNE maps of the penultimate-layer features and of the raw pixels, by label
    tsne.csv    their coordinates: index (in the training split), label, features_x/y, pixels_x/y
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from lenet_lab import startup  # noqa: F401  (an entry point: resolvers, warning filters)
from lenet_lab.errors import UserError, command
from lenet_lab.evaluation.features import penultimate_features
from lenet_lab.evaluation.figures import embeddings_figure, save_figure
from lenet_lab.evaluation.job_evaluation import evaluate_predictions
from lenet_lab.evaluation.tsne import require_opentsne, tsne
from lenet_lab.job_folder import evaluation_dir, read_metrics
from lenet_lab.metrics import percent
from lenet_lab.training.trained_model import load_trained, scores_of

PROGRESS_FROM = 2000  # t-SNE of more points than this shows a progress bar (it takes minutes)


def data_module(cfg: DictConfig, data_root: str | None):
    """The job's own data settings (normalisation, padding, split), read from `data_root`, else
    LENET_LAB_DATA, else the folder the job trained on. Never downloads."""
    root = data_root or os.environ.get("LENET_LAB_DATA") or cfg.data.root
    datamodule = instantiate(cfg.data, root=str(root), download=False, on_device=False)
    datamodule.setup("test")
    return datamodule


def tsne_maps(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, out: Path, device: str, perplexity: float) -> Path:
    """t-SNE of the model's penultimate features and of the raw pixels of `images`, as one PNG and a CSV."""
    progress = len(images) > PROGRESS_FROM
    features = penultimate_features(model, images)
    maps = {
        f"penultimate layer ({features.shape[1]} features)": tsne(features, perplexity, progress=progress),
        f"raw pixels ({images.shape[-2]}x{images.shape[-1]} input)": tsne(images.flatten(1), perplexity, progress=progress),
    }
    labels = labels.numpy()
    fig = embeddings_figure(maps, labels, f"t-SNE of {len(labels):,} training images")
    save_figure(fig, out / "tsne.png")
    (feature_map, pixel_map) = maps.values()
    table = pd.DataFrame({"index": np.arange(len(labels)), "label": labels})
    for name, points in (("features", feature_map), ("pixels", pixel_map)):
        table[f"{name}_x"], table[f"{name}_y"] = points[:, 0], points[:, 1]
    table.to_csv(out / "tsne.csv", index=False)
    return out / "tsne.png"


def evaluate(job: str | Path, n: int = 1000, data_root: str | None = None, device: str = "cpu", perplexity: float = 30.0, out=None) -> dict:
    out = out or sys.stdout  # looked up now: a caller may have redirected it
    trained = load_trained(job)
    model = trained.model.to(device)
    datamodule = data_module(trained.cfg, data_root)
    if n > len(datamodule.splits["train"][1]):
        raise UserError(f"--n {n} is more than the {len(datamodule.splits['train'][1])} training images of this job's split")
    if n > 0:
        require_opentsne()  # said now, not after the evaluation
    images, labels = datamodule.splits["test"]
    started = time.perf_counter()
    scores = scores_of(model, images)
    result = evaluate_predictions(trained.job_dir, images, labels, scores)
    print(result["text"], file=out)
    recorded = (read_metrics(trained.job_dir) or {}).get("test/acc")
    note = f" (metrics.json: {percent(recorded)})" if recorded is not None else ""
    print(f"test accuracy {percent(result['accuracy'])}{note}; {time.perf_counter() - started:.1f}s -> {result['dir']}", file=out)
    if n > 0:
        train_images, train_labels = datamodule.splits["train"]
        # The training split is in a seeded random order (data.split_seed): its first n are a random sample.
        started = time.perf_counter()
        path = tsne_maps(model, train_images[:n], train_labels[:n], evaluation_dir(trained.job_dir), device, perplexity)
        print(f"t-SNE of {n} training images: {time.perf_counter() - started:.1f}s -> {path}", file=out)
    return result


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lenet_lab.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("job", help="a job folder (with checkpoints/last.ckpt) or a checkpoint file")
    parser.add_argument("--n", type=int, default=1000, help='training images in the t-SNE maps (0: none; up to the training split\'s size); needs openTSNE: pip install -e ".[tsne]"')
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (default 30)")
    parser.add_argument("--data-root", help="folder holding MNIST/raw/ (default: LENET_LAB_DATA, else the job's data.root)")
    parser.add_argument("--device", default="cpu", help="where the model runs: cpu (default) or cuda; t-SNE runs on the CPU")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: all cores)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("--n must be 0 or more")
    if args.threads:
        torch.set_num_threads(args.threads)
    evaluate(args.job, args.n, args.data_root, args.device, args.perplexity)
    return 0


if __name__ == "__main__":
    sys.exit(main())
