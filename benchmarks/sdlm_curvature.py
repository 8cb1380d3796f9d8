"""SDLM's curvature at the start of training of the 1998 LeNet-5: two estimates, two inits.

    python benchmarks/sdlm_curvature.py            # [--images 500]   ~1 min on one CPU core

For each layer's parameters, the mean diagonal second derivative h_kk on real training images,
measured on F6 against the correct class's bitmap (what `optimizer=sdlm` uses), estimated
  - "Gauss-Newton": the exact diagonal of J^T H J (`lenet_lab.optim.sdlm`, probes=None);
  - "paper": the 1998 paper's recipe (appendix C): second derivatives backpropagated layer by
    layer with squared weights and squared slopes, summed over the connections that share a
    weight, every off-diagonal term dropped;
and the mean SDLM step size eta / (mu + h_kk) at the first epoch's eta. Where the two estimates
agree (F6, C5: no weight sharing) the recipe is implemented as the paper states it.
"""

from __future__ import annotations

import argparse

import torch
from common import DATA, run_config
from torch import nn
from torch.func import functional_call

from lenet_lab.data.idx import load_split
from lenet_lab.data.pixels import to_inputs
from lenet_lab.models.lenet5_1998 import LeNet5_1998, squash
from lenet_lab.optim.sdlm import gauss_newton_diagonal
from lenet_lab.training.train import build_model


def squash_slope(a: torch.Tensor) -> torch.Tensor:
    return 1.7159 * (2 / 3) * (1 - torch.tanh(a * (2 / 3)).square())


def paper_diagonal(model: LeNet5_1998, images: torch.Tensor, output_curvature: float = 2.0) -> dict[nn.Parameter, torch.Tensor]:
    """Mean over the images of the paper's diagonal second derivatives, parameter by parameter.

    Every layer is affine in its input and linear in its weights, so with c = d2E/da2 at its
    outputs: sum over connections x_j^2 c_i is the weight gradient of <c, layer(x^2)>, and
    d2E/dx_j^2 = sum_i w_ij^2 c_i is the input gradient of <c, layer with squared weights>.
    `output_curvature`: d2E/dx2 of F6's outputs (2 for a squared distance to a bitmap).
    """
    layers = [model.c1, model.s2, model.c3, model.s4, model.c5, model.f6]
    inputs, pre_activations, x = [], [], images
    with torch.no_grad():
        for layer in layers:
            x = x.flatten(1) if isinstance(layer, nn.Linear) else x
            inputs.append(x)
            pre_activations.append(layer(x))
            x = squash(pre_activations[-1])
    curvature, c_x = {}, torch.full_like(x, output_curvature)
    for index in reversed(range(len(layers))):
        layer, x_in, a = layers[index], inputs[index], pre_activations[index]
        c_a = squash_slope(a).square() * c_x  # Gauss-Newton: the f'' term dropped
        params = dict(layer.named_parameters(recurse=False))
        leaves = {name: p.detach().requires_grad_() for name, p in params.items()}
        grads = torch.autograd.grad((functional_call(layer, leaves, (x_in.square(),)) * c_a).sum(), list(leaves.values()))
        curvature.update({params[name]: g / len(images) for name, g in zip(params, grads)})
        if index:
            z = torch.zeros_like(x_in, requires_grad=True)
            squared = {name: p.detach().square() for name, p in params.items()}
            (c_x,) = torch.autograd.grad((functional_call(layer, squared, (z,)) * c_a).sum(), z)
            c_x = c_x.view_as(pre_activations[index - 1])
    return curvature


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
        paper = paper_diagonal(model, images)
        for name, p in model.named_parameters():
            g, q = exact[p], paper[p]
            steps = [(eta / (mu + h)).mean().item() for h in (g, q)]
            print(f"| {init} | {name} | {g.mean():.3g} | {q.mean():.3g} | {steps[0]:.2g} | {steps[1]:.2g} |")


if __name__ == "__main__":
    main()
