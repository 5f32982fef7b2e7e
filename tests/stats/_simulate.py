"""Seeded data generators for the statistical oracles (statistics.md §6.4).

Shared difficulty: d_i ~ N(0, 1.5²), P(model m correct on i) = sigmoid(a_m − d_i), with a_m chosen so
that the marginal accuracy E[sigmoid(a_m − d)] hits the target exactly (Gauss–Hermite quadrature).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy import optimize

SD = 1.5
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(80)
_GH_W = _GH_W / _GH_W.sum()


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


@lru_cache(maxsize=256)
def ability(acc: float, sd: float = SD) -> float:
    """a with E[sigmoid(a − d)] = acc for d ~ N(0, sd²)."""
    return float(optimize.brentq(lambda a: float(_GH_W @ sigmoid(a - sd * _GH_X)) - acc, -30, 30, xtol=1e-12))


def abilities_for(accs: Sequence[float], sd: float = SD) -> list[float]:
    return [ability(float(p), sd) for p in accs]


def binary_pairs(
    rng: np.random.Generator, reps: int, n: int, pa: float, pb: float, correlated: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(reps, n) arrays of 0/1 scores for models A and B (shared difficulty if correlated)."""
    if not correlated:
        return (rng.random((reps, n)) < pa).astype(np.int8), (rng.random((reps, n)) < pb).astype(np.int8)
    a_a, a_b = ability(pa), ability(pb)
    d = rng.normal(0, SD, (reps, n))
    return (rng.random((reps, n)) < sigmoid(a_a - d)).astype(np.int8), (
        rng.random((reps, n)) < sigmoid(a_b - d)
    ).astype(np.int8)


def discordant_steps(rng: np.random.Generator, reps: int, n: int, pa: float, pb: float, correlated: bool = True) -> np.ndarray:
    """(reps, n) int8 array of Z = x_A − x_B ∈ {−1, 0, 1}."""
    a, b = binary_pairs(rng, reps, n, pa, pb, correlated)
    return a - b
