"""Stochastic diagonal Levenberg-Marquardt (LeCun et al. 1998, appendix C).

Plain stochastic gradient descent with one step size per parameter:

    w_k <- w_k - eta / (mu + h_kk) * dE/dw_k

where h_kk estimates the k-th diagonal element of the loss's Hessian (the Gauss-Newton
approximation, which is never negative) and mu keeps the step bounded where h_kk is ~0. The
estimate is made on a few hundred training images before each epoch, not every step: it is a
property of the loss surface there, and it changes slowly. Optionally (`running_every`) it is
also kept as a running average through the epoch, h_kk <- (1 - rate) h_kk + rate h_kk(image),
from one training image every `running_every` steps: the other reading of the paper's appendix.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap
from torch.optim import Optimizer

# gauss_newton: the Gauss-Newton diagonal of the whole network; layerwise: the 1998 paper's recipe
# (appendix C), which backpropagates diagonal second derivatives layer by layer.
CURVATURES = ("gauss_newton", "layerwise")
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (scores [N, C], labels [N]) -> mean loss


class SDLM(Optimizer):
    """`lr` is the global step size eta; `curvature_samples` how many training images `estimate_curvature` is given.

    Until the first estimate every h_kk is 0: steps are lr / mu times the gradient.
    `running_every` > 0: the training loop calls `update_running_curvature` every that many steps
    with the step's images, blending them in at `running_rate`.
    """

    def __init__(
        self,
        params,
        lr: float = 5e-4,
        mu: float = 0.02,
        curvature_samples: int = 500,
        running_every: int = 0,
        running_rate: float = 0.02,
        curvature: str = "gauss_newton",
    ):
        if curvature not in CURVATURES:
            raise ValueError(f"unknown sdlm curvature {curvature!r}; choose one of {', '.join(CURVATURES)}")
        if lr <= 0 or mu <= 0 or curvature_samples < 1:
            raise ValueError(f"sdlm needs lr > 0, mu > 0 and curvature_samples >= 1, got lr={lr}, mu={mu}, curvature_samples={curvature_samples}")
        if running_every < 0 or not 0 < running_rate <= 1:
            raise ValueError(f"sdlm needs running_every >= 0 and 0 < running_rate <= 1, got {running_every} and {running_rate}")
        super().__init__(params, {"lr": lr, "mu": mu})
        self.curvature_samples = curvature_samples
        self.running_every, self.running_rate = running_every, running_rate
        self.curvature = curvature

    def add_param_group(self, param_group: dict) -> None:
        # Every parameter the optimizer owns has an h_kk from the start (0 until estimated), also in
        # groups added later: the state's keys are the parameters it keeps curvature for.
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:
            self.state[p]["curvature"] = torch.zeros_like(p, memory_format=torch.preserve_format)

    def set_curvature(self, curvature: dict[nn.Parameter, torch.Tensor]) -> None:
        """New h_kk for the given parameters (the others keep theirs)."""
        for p, h in curvature.items():
            self.state[p]["curvature"] = _as_curvature(h, p)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            # 1 / (mu + h), then one fused multiply-add per tensor: at batch size 1 this runs
            # 60,000 times an epoch.
            scales = torch._foreach_reciprocal(torch._foreach_add([self.state[p]["curvature"] for p in params], group["mu"]))
            torch._foreach_addcmul_(params, grads, scales, value=-group["lr"])
        return loss

    def estimate_curvature(self, model: nn.Module, loss_fn: LossFn, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> None:
        """h_kk <- the Gauss-Newton diagonal of `loss_fn(model(x), y)`, averaged over the given images.

        Estimated with one random probe per image (`gauss_newton_diagonal(probes=1)`): a few
        hundred per-image gradients, a second or two, where the exact diagonal of an 84-output
        network (F6 of the 1998 LeNet-5) takes 84 times as many.
        """
        self.set_curvature(self._owned(self._diagonal(model, loss_fn, images, labels, seed)))

    @torch.no_grad()
    def update_running_curvature(self, model: nn.Module, loss_fn: LossFn, images: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> None:
        """h_kk <- (1 - running_rate) h_kk + running_rate * (the estimate on these images)."""
        for p, h in self._owned(self._diagonal(model, loss_fn, images, labels, seed)).items():
            self.state[p]["curvature"].mul_(1 - self.running_rate).add_(_as_curvature(h, p), alpha=self.running_rate)

    def _diagonal(self, model: nn.Module, loss_fn: LossFn, images: torch.Tensor, labels: torch.Tensor, seed: int) -> dict[nn.Parameter, torch.Tensor]:
        if self.curvature == "layerwise":
            return layerwise_diagonal(model, loss_fn, images, labels)
        return gauss_newton_diagonal(model, loss_fn, images, labels, probes=1, seed=seed)

    def _owned(self, diagonal: dict[nn.Parameter, torch.Tensor]) -> dict[nn.Parameter, torch.Tensor]:
        return {p: h for p, h in diagonal.items() if p in self.state}


def _as_curvature(h: torch.Tensor, p: nn.Parameter) -> torch.Tensor:
    """An estimate as the optimizer keeps it: beside its parameter, in its dtype, never negative
    (a probed estimate of a term that is >= 0 can come out slightly below)."""
    return h.detach().to(p.device, p.dtype).clamp_min(0)


def gauss_newton_diagonal(
    model: nn.Module, loss_fn: LossFn, images: torch.Tensor, labels: torch.Tensor, probes: int | None = None, seed: int = 0, chunk: int = 100
) -> dict[nn.Parameter, torch.Tensor]:
    """diag(J^T H J) averaged over the examples: J the Jacobian of the model's outputs with respect
    to its parameters, H the Hessian of the loss with respect to the outputs (exact, per example).

    The Gauss-Newton matrix drops the terms of the true Hessian that involve the network's own
    second derivatives; what is left is positive semi-definite, so every h_kk >= 0.

    probes=None: exact, one backward pass per output per example. probes=m: unbiased estimate
    from m random probes per example: with H = S S^T and v of random signs, E[(J^T S v)^2] =
    diag(J^T H J), one backward pass per probe. (Exact wherever J^T S is diagonal, e.g. a bias.)
    """
    named = {name: p for name, p in model.named_parameters() if p.requires_grad}
    detached = {name: p.detach() for name, p in named.items()}
    generator = torch.Generator().manual_seed(seed)

    def outputs(params, image):
        return functional_call(model, params, (image[None],))[0]

    def example_loss(output, label):
        return loss_fn(output[None], label[None])

    def probed(params, image, direction):  # direction . outputs, whose gradient is J^T direction
        return (outputs(params, image) * direction).sum()

    total = {name: torch.zeros_like(p) for name, p in detached.items()}
    for start in range(0, len(labels), chunk):
        x, y = images[start : start + chunk], labels[start : start + chunk]
        with torch.no_grad():
            out = functional_call(model, detached, (x,))
        # Reverse over reverse: torch.func.hessian's forward mode loads a deprecated TorchScript path.
        loss_hessian = vmap(jacrev(jacrev(example_loss)))(out, y)  # [n, C, C]
        if probes is None:
            jacobian = vmap(jacrev(outputs), in_dims=(None, 0))(detached, x)  # name -> [n, C, *shape]
            for name, j in jacobian.items():
                j = j.flatten(2)
                total[name] += torch.einsum("nik,nij,njk->k", j, loss_hessian, j).view_as(total[name])
            continue
        values, vectors = torch.linalg.eigh(loss_hessian)
        root = vectors * values.clamp_min(0).sqrt()[:, None, :]  # S, with S S^T = H
        per_example_grad = vmap(grad(probed), in_dims=(None, 0, 0))
        for _ in range(probes):
            signs = torch.randint(0, 2, out.shape, generator=generator).to(out) * 2 - 1
            direction = torch.einsum("nij,nj->ni", root, signs)
            for name, g in per_example_grad(detached, x, direction).items():
                total[name] += g.square().sum(0) / probes
    return {named[name]: t / len(labels) for name, t in total.items()}


def layerwise_diagonal(model: nn.Module, loss_fn: LossFn, images: torch.Tensor, labels: torch.Tensor) -> dict[nn.Parameter, torch.Tensor]:
    """The 1998 paper's h_kk (appendix C), averaged over the examples: second derivatives
    backpropagated layer by layer with squared weights and squared slopes (Gauss-Newton: the
    activation's second derivative dropped), summed over the connections that share a weight,
    every off-diagonal term dropped, down from the diagonal of the loss's Hessian in the outputs.

    `model.layerwise()` gives its layers in order, each affine in its input and linear in its
    weights, and the elementwise activation after every one of them (the 1998 LeNet-5's F6 view).
    It equals the Gauss-Newton diagonal where no weight is shared and no off-diagonal term matters
    (a bias of the last layer); `benchmarks/sdlm_curvature.py` prints both, layer by layer.
    """
    if not hasattr(model, "layerwise"):
        raise ValueError(f"optimizer.curvature=layerwise needs a model that lists its layers (layerwise()); {type(model).__name__} does not")
    layers, activation = model.layerwise()
    inputs, pre_activations, x = [], [], images
    with torch.no_grad():
        for layer in layers:
            x = x.flatten(1) if isinstance(layer, nn.Linear) else x
            inputs.append(x)
            pre_activations.append(layer(x))
            x = activation(pre_activations[-1])

    def example_loss(output, label):
        return loss_fn(output[None], label[None])

    # d2E/dx2 of the outputs, each example's Hessian diagonal (its off-diagonal terms dropped).
    c_x = torch.diagonal(vmap(jacrev(jacrev(example_loss)))(x, labels), dim1=1, dim2=2)
    curvature = {}
    for index in reversed(range(len(layers))):
        layer, x_in, a = layers[index], inputs[index], pre_activations[index]
        with torch.enable_grad():
            a_leaf = a.detach().requires_grad_()
            (slope,) = torch.autograd.grad(activation(a_leaf).sum(), a_leaf)  # elementwise activation: its slope
        c_a = slope.square() * c_x.view_as(a)
        # Every layer is affine in its input and linear in its weights: sum over connections of
        # x_j^2 c_i is the weight gradient of <c, layer(x^2)>, and sum_i w_ij^2 c_i (d2E/dx_j^2)
        # the input gradient of <c, the layer with squared weights>.
        params = dict(layer.named_parameters(recurse=False))
        leaves = {name: p.detach().requires_grad_() for name, p in params.items()}
        with torch.enable_grad():
            grads = torch.autograd.grad((functional_call(layer, leaves, (x_in.square(),)) * c_a).sum(), list(leaves.values()))
        curvature.update({params[name]: g / len(images) for name, g in zip(params, grads)})
        if index:
            with torch.enable_grad():
                z = torch.zeros_like(x_in, requires_grad=True)
                squared = {name: p.detach().square() for name, p in params.items()}
                (c_x,) = torch.autograd.grad((functional_call(layer, squared, (z,)) * c_a).sum(), z)
            c_x = c_x.view_as(pre_activations[index - 1])
    return curvature
