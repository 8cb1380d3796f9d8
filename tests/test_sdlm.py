"""The SDLM optimizer: its step against the closed form, its curvature against hand computations."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lenet_lab.optim.sdlm import SDLM, gauss_newton_diagonal


class Quadratic(nn.Module):
    """E(w) = 1/2 sum_k a_k (w_k - c_k)^2, written as a squared-error "model" so that its
    Gauss-Newton matrix is its exact Hessian, diag(a)."""

    def __init__(self, a, c, w):
        super().__init__()
        self.register_buffer("root_a", a.sqrt())
        self.register_buffer("c", c)
        self.w = nn.Parameter(w.clone())

    def forward(self, x):  # the "scores": sqrt(a) * (w - c), one row per example
        return (self.root_a * (self.w - self.c)).expand(len(x), -1)


def half_squared_norm(scores, labels):
    return 0.5 * scores.square().sum(1).mean()


def test_sdlm_step_on_a_quadratic_is_the_closed_form():
    a, c, w0 = torch.tensor([4.0, 0.5, 0.0]), torch.tensor([1.0, -2.0, 3.0]), torch.tensor([0.0, 0.0, 0.0])
    model = Quadratic(a, c, w0)
    optimizer = SDLM(model.parameters(), lr=0.1, mu=0.02)
    x, y = torch.zeros(5, 1), torch.zeros(5, dtype=torch.long)
    optimizer.estimate_curvature(model, half_squared_norm, x, y)
    torch.testing.assert_close(optimizer.state[model.w]["curvature"], a)  # Gauss-Newton = Hessian here

    loss = half_squared_norm(model(x), y)
    loss.backward()
    optimizer.step()
    # w1 = w0 - lr * a (w0 - c) / (mu + a); a coordinate with no curvature doesn't move (its gradient is 0).
    expected = w0 - 0.1 * a * (w0 - c) / (0.02 + a)
    torch.testing.assert_close(model.w.detach(), expected)


def test_sdlm_with_lr_one_and_mu_zero_limit_is_newtons_step():
    a, c = torch.tensor([3.0, 7.0]), torch.tensor([1.0, 2.0])
    model = Quadratic(a, c, torch.zeros(2))
    optimizer = SDLM(model.parameters(), lr=1.0, mu=1e-9)
    x, y = torch.zeros(1, 1), torch.zeros(1, dtype=torch.long)
    optimizer.estimate_curvature(model, half_squared_norm, x, y)
    half_squared_norm(model(x), y).backward()
    optimizer.step()
    torch.testing.assert_close(model.w.detach(), c)  # one Newton step lands on the minimum


def test_before_any_estimate_sdlm_is_sgd_with_lr_over_mu():
    torch.manual_seed(0)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    x, y = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])
    sdlm, sgd = SDLM(a.parameters(), lr=0.01, mu=0.5), torch.optim.SGD(b.parameters(), lr=0.02)
    for model, optimizer in ((a, sdlm), (b, sgd)):
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_gauss_newton_diagonal_of_a_linear_softmax_matches_a_hand_computation():
    # For scores z = W x + b and cross-entropy, J^T H J has diagonal entries
    # H_ii x_j^2 for W_ij (H = diag(p) - p p^T, so H_ii = p_i (1 - p_i)) and H_ii for b_i.
    torch.manual_seed(0)
    layer = nn.Linear(3, 4)
    x, y = torch.randn(6, 3), torch.randint(0, 4, (6,))
    diagonal = gauss_newton_diagonal(layer, F.cross_entropy, x, y, chunk=4)  # exact
    p = F.softmax(layer(x), dim=1).detach()
    h = p * (1 - p)  # [n, 4]
    torch.testing.assert_close(diagonal[layer.weight], (h[:, :, None] * x[:, None, :].square()).mean(0))
    torch.testing.assert_close(diagonal[layer.bias], h.mean(0))


def test_sdlm_rejects_bad_settings():
    with pytest.raises(ValueError, match="mu > 0"):
        SDLM(nn.Linear(2, 2).parameters(), mu=0)


def test_lenet5_1998_curvature_is_measured_on_f6_against_the_bitmaps():
    # The paper's Gauss-Newton for RBF outputs: y_correct = |x - w_correct|^2 has second derivative 2
    # in each F6 output x_j, so F6's bias j gets 2 f'(a_j)^2, averaged over the images.
    from lenet_lab.models.lenet5_1998 import LeNet5_1998

    torch.manual_seed(0)
    model = LeNet5_1998()
    images, labels = torch.randn(7, 1, 32, 32), torch.randint(0, 10, (7,))
    network, loss = model.curvature_target()
    diagonal = gauss_newton_diagonal(network, loss, images, labels, chunk=3)
    assert set(diagonal) == {p for p in model.parameters()}  # every parameter, none copied
    captured = {}
    model.f6.register_forward_hook(lambda module, args, out: captured.update(a=out))
    with torch.no_grad():
        model.features(images)
    slope = 1.7159 * (2 / 3) * (1 - torch.tanh(captured["a"] * (2 / 3)).square())
    torch.testing.assert_close(diagonal[model.f6.bias], (2 * slope.square()).mean(0))


def test_probed_estimate_converges_to_the_exact_diagonal():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4))
    x, y = torch.randn(50, 5), torch.randint(0, 4, (50,))
    exact = gauss_newton_diagonal(model, F.cross_entropy, x, y)
    probed = gauss_newton_diagonal(model, F.cross_entropy, x, y, probes=100, seed=1)
    for p in model.parameters():
        torch.testing.assert_close(probed[p], exact[p], rtol=0.15, atol=1e-4)


def test_running_curvature_blends_each_new_estimate_in_at_its_rate():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4))
    x, y = torch.randn(3, 5), torch.randint(0, 4, (3,))
    optimizer = SDLM(model.parameters(), running_every=10, running_rate=0.25)
    before = {p: torch.rand_like(p) for p in model.parameters()}
    optimizer.set_curvature(before)
    optimizer.update_running_curvature(model, F.cross_entropy, x, y, seed=7)
    fresh = gauss_newton_diagonal(model, F.cross_entropy, x, y, probes=1, seed=7)
    for p in model.parameters():
        torch.testing.assert_close(optimizer.state[p]["curvature"], 0.75 * before[p] + 0.25 * fresh[p])
    with pytest.raises(ValueError, match="running_rate"):
        SDLM(model.parameters(), running_every=10, running_rate=0)


def test_an_optimizer_over_some_parameters_keeps_curvature_for_those_only():
    # Fine-tuning the last layer: the estimate covers the whole network, the optimizer keeps its own.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4))
    x, y = torch.randn(3, 5), torch.randint(0, 4, (3,))
    optimizer = SDLM(model[2].parameters(), running_every=1, running_rate=1.0)
    for estimate in (optimizer.estimate_curvature, optimizer.update_running_curvature):
        estimate(model, F.cross_entropy, x, y, seed=3)
        assert set(optimizer.state) == set(model[2].parameters())
        fresh = gauss_newton_diagonal(model, F.cross_entropy, x, y, probes=1, seed=3)
        torch.testing.assert_close(optimizer.state[model[2].weight]["curvature"], fresh[model[2].weight])


class TanhChain(nn.Module):
    """tanh after every layer, one output: each weight reaches the output along one path only."""

    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(3, 4), nn.Linear(4, 1)

    def forward(self, x):
        return torch.tanh(self.out(torch.tanh(self.hidden(x))))

    def layerwise(self):
        return [self.hidden, self.out], torch.tanh


def test_layerwise_curvature_is_the_gauss_newton_diagonal_where_no_term_is_dropped():
    # The paper's recipe drops off-diagonal terms; with one path per weight there are none to drop.
    from lenet_lab.optim.sdlm import layerwise_diagonal

    torch.manual_seed(0)
    model, x = TanhChain(), torch.randn(6, 3)
    squared_error = lambda out, labels: (out - 0.5).square().sum(1).mean()  # noqa: E731
    labels = torch.zeros(6, dtype=torch.long)
    exact, paper = gauss_newton_diagonal(model, squared_error, x, labels), layerwise_diagonal(model, squared_error, x, labels)
    for p in model.parameters():
        torch.testing.assert_close(paper[p], exact[p])
    optimizer = SDLM(model.parameters(), curvature="layerwise")
    optimizer.estimate_curvature(model, squared_error, x, labels)
    torch.testing.assert_close(optimizer.state[model.hidden.weight]["curvature"], exact[model.hidden.weight])
    with pytest.raises(ValueError, match="lists its layers"):
        SDLM(model.parameters(), curvature="layerwise").estimate_curvature(nn.Linear(3, 1), squared_error, x, labels)
