"""SDLM's curvature at the start of training of the 1998 LeNet-5: two estimates, two inits.

    python benchmarks/sdlm_curvature.py            # [--images 500]   ~1 min on one CPU core

For each layer's parameters, the mean diagonal second derivative h_kk on real training images,
measured on F6 against the correct class's bitmap (what `optimizer=sdlm` uses), estimated
  - "Gauss-Newton": the exact diagonal of J^T H J (`lenet_lab.optim.sdlm`, probes=None);
  - "paper": the 1998 paper's recipe (appendix C, `layerwise_diagonal`, what
    `optimizer.curvature=layerwise` uses): second derivatives backpropagated layer by layer with
    squared weights and squared slopes, summed over the connections that share a weight, every
    off-diagonal term dropped;
and the mean SDLM step size eta / (mu + h_kk) at the first epoch's eta. Where the two estimates
agree (F6, C5: no weight sharing) the recipe is implemented as the paper states it.
"""

from __future__ import annotations

import argparse

import torch
from common import DATA, run_config

from lenet_lab.data.idx import load_split
from lenet_lab.data.pixels import to_inputs
from lenet_lab.optim.sdlm import gauss_newton_diagonal, layerwise_diagonal
from lenet_lab.training.train import build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500, help="training images to estimate on (the paper: 500)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = run_config("+experiment=lecun1998")
    eta, mu = cfg.lr_scheduler["values"][0][1], cfg.optimizer.mu
    raw_images, labels = load_split(DATA, train=True)
    images = to_inputs(raw_images[: args.images], cfg.data.normalize, cfg.data.pad)
    labels = labels[: args.images]
    print(f"{args.images} training images; step size eta / (mu + h) with eta = {eta}, mu = {mu}\n")
    print("| init | parameters | h, Gauss-Newton | h, paper | step, Gauss-Newton | step, paper |")
    print("|---|---|---:|---:|---:|---:|")
    for init in ("fan_in", "sqrt_fan_in"):
        torch.manual_seed(cfg.seed)
        model = build_model(cfg.model, init=init).eval()
        network, loss = model.curvature_target()
        exact = gauss_newton_diagonal(network, loss, images, labels, probes=None)
        paper = layerwise_diagonal(network, loss, images, labels)
        for name, p in model.named_parameters():
            g, q = exact[p], paper[p]
            steps = [(eta / (mu + h)).mean().item() for h in (g, q)]
            print(f"| {init} | {name} | {g.mean():.3g} | {q.mean():.3g} | {steps[0]:.2g} | {steps[1]:.2g} |")


if __name__ == "__main__":
    main()
