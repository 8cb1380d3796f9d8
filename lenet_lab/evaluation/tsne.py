"""t-SNE maps from openTSNE (the optional extra `[tsne]`): points [N, D] -> a 2-D map in which near
neighbours stay near.

openTSNE, not a t-SNE of our own: its repulsion is Barnes-Hut below 10,000 points and FFT-accelerated
interpolation (FIt-SNE's) above, with errors that stay bounded as the map grows. It runs on the CPU.
"""

from __future__ import annotations

import numpy as np
import torch

from lenet_lab.errors import UserError

INSTALL = 'pip install -e ".[tsne]"'


def require_opentsne() -> None:
    """A UserError that says how to get openTSNE, before anything slow runs."""
    try:
        import openTSNE  # noqa: F401
    except ImportError as error:
        raise UserError(f"t-SNE maps need openTSNE: {INSTALL} (or --n 0 for none)") from error


def tsne(x: torch.Tensor, perplexity: float = 30.0, seed: int = 0, progress: bool = False) -> np.ndarray:
    """The 2-D map of `x` [N, D], the same for the same points and seed (PCA initialisation)."""
    require_opentsne()
    from openTSNE import TSNE

    points = x.detach().cpu().double().numpy()
    # openTSNE needs perplexity < N / 3 neighbours' worth of points; tiny inputs get the most they can have.
    perplexity = min(perplexity, max((len(points) - 1) / 3, 1.0))
    embedding = TSNE(perplexity=perplexity, n_jobs=max(torch.get_num_threads(), 1), random_state=seed, verbose=progress).fit(points)
    return np.asarray(embedding, dtype=np.float32)
