"""Seeded synthetic banks with a known low-rank logistic truth (tests only)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from bayesbench.history import ItemBank


def factor_bank(n_models: int = 300, n_items: int = 120, rank: int = 3, seed: int = 0, scale: float = 1.5):
    """(bank of 0/1 scores, the true probability matrix)."""
    rng = np.random.default_rng(seed)
    U = rng.normal(0, scale / np.sqrt(rank), (n_models, rank)) + rng.normal(0, 1.0, (n_models, 1)) * np.array(
        [1.0] + [0.0] * (rank - 1))
    V = rng.normal(0, 1.0, (n_items, rank))
    b = rng.normal(0, 1.5, n_items)
    P = expit(U @ V.T + b)
    Z = (rng.random(P.shape) < P).astype(float)
    return ItemBank(Z, [f"m{i}" for i in range(n_models)], [f"q{j}" for j in range(n_items)]), P
