"""t-SNE in torch: points [N, D] -> a 2-D map in which near neighbours stay near.

Written here instead of importing scikit-learn's: 200 lines are a smaller cost than a new
dependency for one figure, and in torch it runs on the GPU too.

The method is van der Maaten's (2014) with scikit-learn's defaults: inputs reduced to 50
dimensions by PCA, affinities from each point's 3 x perplexity nearest neighbours (sparse, as in
Barnes-Hut t-SNE), PCA initialisation, early exaggeration 12 for 250 iterations, learning rate
max(N / 48, 50), momentum 0.5 then 0.8, adaptive gains.

The repulsion between all pairs is computed exactly up to 5,000 points, in blocks that bound
the memory (O(N^2) per iteration: 0.2 s for 5,000 points on a CPU core, 17 s for 50,000). Above,
it is approximated on a grid by FFT, as FIt-SNE does (within a few percent of the exact forces
while the map is under ~200 units wide; O(N) per iteration: 0.65 s for 50,000 points).
"""

from __future__ import annotations

import math
import sys

import torch
from tqdm.auto import tqdm

PCA_DIMS = 50
EXAGGERATION, EXAGGERATED_ITERATIONS = 12.0, 250
# Pairs per block of distances: on a CPU a block that stays in cache (1 MB) is 3x faster than a
# big one; a GPU wants big blocks (64 MB) to keep busy.
BLOCK_ELEMENTS = {"cpu": 1 << 18, "cuda": 1 << 24}
EXACT_UP_TO = 5000  # points; above, the repulsion is computed on a grid (O(N) instead of O(N^2))
GRID_SPACING = 0.25  # map units per grid cell: the kernel 1 / (1 + r^2) changes over about 1


def block_rows(n: int, device: torch.device) -> int:
    return max(1, BLOCK_ELEMENTS.get(device.type, 1 << 20) // n)


def pca(x: torch.Tensor, dims: int) -> torch.Tensor:
    """x [N, D] centred and projected on its `dims` leading principal axes (deterministic: an
    eigendecomposition of the D x D covariance, no random projections)."""
    x = x - x.mean(0)
    if x.shape[1] <= dims:
        return x
    covariance = (x.T.double() @ x.double()) / max(len(x) - 1, 1)
    _, vectors = torch.linalg.eigh(covariance)  # ascending eigenvalues
    axes = vectors[:, -dims:].flip(1).to(x.dtype)
    # An eigenvector's sign is arbitrary: fix it, so the same data gives the same map everywhere.
    axes = axes * torch.sign(axes[axes.abs().argmax(0), torch.arange(dims)])
    return x @ axes


def nearest_neighbours(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared distances and indices [N, k] of each point's k nearest others, in blocks of rows."""
    squares = x.square().sum(1)
    block = block_rows(len(x), x.device)
    distances, indices = [], []
    for start in range(0, len(x), block):
        rows = slice(start, start + block)
        d2 = (squares[rows, None] + squares[None, :] - 2 * x[rows] @ x.T).clamp_min_(0)
        d2[torch.arange(d2.shape[0]), torch.arange(start, start + d2.shape[0])] = math.inf  # not its own neighbour
        d, i = d2.topk(k, dim=1, largest=False)
        distances.append(d)
        indices.append(i)
    return torch.cat(distances), torch.cat(indices)


def conditional_affinities(d2: torch.Tensor, perplexity: float, steps: int = 100) -> torch.Tensor:
    """p(j|i) over each row's neighbours: a Gaussian whose width gives the row an entropy of
    log(perplexity), found by bisection for all rows at once."""
    d2 = (d2 - d2[:, :1]).double()  # relative to the nearest: exp() can't underflow to all zeros
    target = math.log(perplexity)
    beta = torch.ones(len(d2), 1, dtype=torch.float64, device=d2.device)
    low = torch.zeros_like(beta)
    high = torch.full_like(beta, math.inf)
    for _ in range(steps):
        p = torch.exp(-d2 * beta)
        total = p.sum(1, keepdim=True)
        entropy = torch.log(total) + beta * (d2 * p).sum(1, keepdim=True) / total
        too_flat = entropy > target  # too many effective neighbours: narrow the Gaussian
        low = torch.where(too_flat, beta, low)
        high = torch.where(too_flat, high, beta)
        beta = torch.where(torch.isinf(high), beta * 2, (low + high) / 2)
    p = torch.exp(-d2 * beta)
    return (p / p.sum(1, keepdim=True)).float()


def joint_affinities(x: torch.Tensor, perplexity: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Symmetric p_ij (summing to 1) as sparse edges: rows, columns, values."""
    n = len(x)
    k = min(n - 1, int(3 * perplexity))
    d2, neighbours = nearest_neighbours(x, k)
    p = conditional_affinities(d2, perplexity)
    rows = torch.arange(n, device=x.device).repeat_interleave(k)
    cols = neighbours.flatten()
    # (i, j) and (j, i) summed where each is the other's neighbour.
    edges = torch.stack([torch.cat([rows, cols]), torch.cat([cols, rows])])
    both = torch.sparse_coo_tensor(edges, torch.cat([p.flatten(), p.flatten()]), (n, n), check_invariants=False).coalesce()
    i, j = both.indices()
    return i, j, both.values() / (2 * n)


def exact_repulsion(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sum_j w_ij^2 (y_i - y_j) for every i, and Z = sum_{i != j} w_ij, over all pairs in blocks."""
    squares = y.square().sum(1)
    repulsion = torch.empty_like(y)
    z = torch.zeros((), dtype=torch.float64, device=y.device)
    block = block_rows(len(y), y.device)
    for start in range(0, len(y), block):
        part = slice(start, start + block)
        # In place, one buffer: |y_i|^2 + |y_j|^2 - 2 y_i.y_j -> w_ij -> w_ij^2.
        w = torch.addmm(squares[None, :], y[part], y.T, alpha=-2).add_(squares[part, None]).clamp_min_(0).add_(1).reciprocal_()
        z += w.sum(dtype=torch.float64)
        w.square_()
        repulsion[part] = w.sum(1, keepdim=True) * y[part] - w @ y
    return repulsion, z - len(y)  # the N terms w_ii = 1 are not pairs


def grid_repulsion(y: torch.Tensor, spacing: float = GRID_SPACING, max_cells: int = 768) -> tuple[torch.Tensor, torch.Tensor]:
    """The same sums, approximated on a grid (particle-mesh, as FIt-SNE does with finer interpolation).

    The points are spread onto a square grid (each to its cell's 4 corners, bilinear weights);
    sum_j w_ij and sum_j w_ij^2 [1, y_j] then are convolutions of those grids with the kernels
    1 / (1 + r^2) and its square, done by FFT; each point reads them back from its 4 corners.
    O(N + G^2 log G) per iteration instead of O(N^2): 50,000 points on a CPU in minutes.
    """
    work = y.float()  # float64 doubles the FFTs' cost for no visible difference in the map
    low = work.min(0).values - spacing
    extent = float((work.max(0).values + spacing - low).max())
    cells = int(min(max_cells, max(16, math.ceil(extent / spacing) + 1)))
    h = extent / (cells - 1)
    position = (work - low) / h
    corner = position.floor().long().clamp_(0, cells - 2)
    fraction = position - corner
    weights, indices = [], []
    for dx in (0, 1):
        for dy in (0, 1):
            wx = fraction[:, 0] if dx else 1 - fraction[:, 0]
            wy = fraction[:, 1] if dy else 1 - fraction[:, 1]
            weights.append(wx * wy)
            indices.append((corner[:, 0] + dx) * cells + corner[:, 1] + dy)
    charges = torch.stack([torch.ones_like(work[:, 0]), work[:, 0], work[:, 1]])  # [3, N]
    grid = torch.zeros(3, cells * cells, dtype=work.dtype, device=y.device)
    for weight, index in zip(weights, indices):
        grid.index_add_(1, index, charges * weight)
    # Circular convolution on a 2G x 2G torus equals the linear one on the G x G grid.
    size = 2 * cells
    offsets = torch.arange(size, device=y.device, dtype=work.dtype)
    offsets = torch.where(offsets < cells, offsets, offsets - size) * h
    w1 = 1 / (1 + offsets[:, None] ** 2 + offsets[None, :] ** 2)
    spectrum = torch.fft.rfft2(grid.view(3, cells, cells), s=(size, size))
    sum_w = torch.fft.irfft2(spectrum[:1] * torch.fft.rfft2(w1), s=(size, size))[0, :cells, :cells].reshape(-1)
    sums_w2 = torch.fft.irfft2(spectrum * torch.fft.rfft2(w1.square()), s=(size, size))[:, :cells, :cells].reshape(3, -1)
    at_points = sum(weight * sum_w[index] for weight, index in zip(weights, indices))
    w2_at_points = sum(weight * sums_w2[:, index] for weight, index in zip(weights, indices))  # [3, N]
    repulsion = work * w2_at_points[0, :, None] - w2_at_points[1:].T
    return repulsion.to(y.dtype), at_points.sum() - len(y)


def gradient(y: torch.Tensor, edges: tuple[torch.Tensor, torch.Tensor, torch.Tensor], exaggeration: float, exact: bool = True) -> torch.Tensor:
    """dKL/dy = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j), w_ij = 1 / (1 + |y_i - y_j|^2): the
    attraction over the sparse edges, the repulsion over all pairs (exactly, or on a grid)."""
    rows, cols, p = edges
    diff = y[rows] - y[cols]
    w = 1 / (1 + diff.square().sum(1))
    attraction = torch.zeros_like(y).index_add_(0, rows, (exaggeration * p * w)[:, None] * diff)
    repulsion, z = exact_repulsion(y) if exact else grid_repulsion(y)
    return 4 * (attraction - repulsion / z.to(y.dtype))


def tsne(x: torch.Tensor, perplexity: float = 30.0, iterations: int = 1000, device: str | torch.device = "cpu", progress: bool = False, desc: str = "t-SNE", exact: bool | None = None) -> torch.Tensor:
    """points [N, D] -> float [N, 2] on the CPU. Deterministic for given inputs and device.
    `exact`: all-pairs repulsion (default up to EXACT_UP_TO points) or the grid approximation."""
    x = torch.as_tensor(x).flatten(1).float().to(device)
    n = len(x)
    if n < 5:
        raise ValueError(f"t-SNE needs at least 5 points, got {n}")
    perplexity = min(perplexity, (n - 1) / 3)  # at least 3 x perplexity neighbours must exist
    x = pca(x, PCA_DIMS)
    edges = joint_affinities(x, perplexity)
    y = pca(x, 2)
    y = y / y[:, 0].std().clamp_min(1e-12) * 1e-4  # scikit-learn's PCA initialisation
    exact = n <= EXACT_UP_TO if exact is None else exact
    learning_rate = max(n / EXAGGERATION / 4, 50.0)
    update, gains = torch.zeros_like(y), torch.ones_like(y)
    for step in tqdm(range(iterations), desc=desc, disable=not progress, file=sys.stderr, unit="it", leave=False):
        early = step < EXAGGERATED_ITERATIONS
        grad = gradient(y, edges, EXAGGERATION if early else 1.0, exact)
        # Adaptive gains: grow while the gradient keeps pushing the way the point already moves.
        same_direction = (grad > 0) == (update > 0)
        gains = torch.where(same_direction, gains * 0.8, gains + 0.2).clamp_min_(0.01)
        update = (0.5 if early else 0.8) * update - learning_rate * gains * grad
        y = y + update
    return (y - y.mean(0)).cpu()
