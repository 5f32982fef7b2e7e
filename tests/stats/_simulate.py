"""Seeded data generators for the statistical oracles (statistics.md §6.4).

Shared difficulty: d_i ~ N(0, 1.5²), P(model m correct on i) = sigmoid(a_m − d_i), with a_m chosen so
that the marginal accuracy E[sigmoid(a_m − d)] hits the target exactly (Gauss–Hermite quadrature).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

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


# ----------------------------------------------------------------------------------------------
# Vectorised replays of the engine over many paths. They re-derive the engine's stopping rule
# from the §6.3 formulas; tests/stats/test_oracles.py checks that they reproduce
# PairedSequentialTest exactly (same decision, same n) on seeded paths before using them.
# ----------------------------------------------------------------------------------------------
INF = np.iinfo(np.int64).max


def _lse(x: np.ndarray, axis: int = -1) -> np.ndarray:
    mx = np.max(x, axis=axis, keepdims=True)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(mx, axis) + np.log(np.sum(np.exp(x - mx), axis=axis))


def binary_boundary(lambdas: Sequence[float], alpha: float, m_max: int) -> np.ndarray:
    """b[m] = smallest n10 with E_A(n10, m − n10) ≥ 2/α (m + 1 if none): stopping is n10 ≥ b[m]."""
    lam = np.asarray(lambdas)
    up, dn = np.log1p(lam), np.log1p(-lam)
    thr = np.log(2 / alpha) + np.log(lam.size)
    m = np.arange(m_max + 1)
    lo = np.zeros(m_max + 1, dtype=np.int64)  # invariant: f(lo) may fail
    hi = m + 1  # "none"
    # f is increasing in n10 for fixed m: integer bisection for all m at once
    for _ in range(int(np.ceil(np.log2(m_max + 2))) + 1):
        mid = (lo + hi) // 2
        ok = _lse(mid[:, None] * up + (m - mid)[:, None] * dn) >= thr
        ok &= mid <= m
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid + 1)
    return hi


def first_stop_binary(z: np.ndarray, bound: np.ndarray, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Decisions (+1 = A, −1 = B, 0 = none) and problems used for Z paths ``z`` (reps, n) of −1/0/1."""
    reps, n = z.shape
    c10 = np.cumsum(z == 1, axis=1, dtype=np.int32)
    c01 = np.cumsum(z == -1, axis=1, dtype=np.int32)
    b = bound[c10 + c01]
    ta = _first(c10 >= b)
    tb = _first(c01 >= b)
    t = np.minimum(ta, tb)
    dec = np.where(t == INF, 0, np.where(ta < tb, 1, -1))
    used = np.where(t == INF, n, np.minimum(n, batch * -(-(t + 1) // batch)))
    return dec, used


def _first(hit: np.ndarray) -> np.ndarray:
    """Index of the first True per row (INF if none)."""
    anyh = hit.any(axis=1)
    return np.where(anyh, np.argmax(hit, axis=1), INF)


def log_e_paths(z: np.ndarray, lambdas: Sequence[float], sign: float = 1.0, m: float = 0.0) -> np.ndarray:
    """(reps, n) current log E of side (d=sign, centre m) for float Z paths (generic product form)."""
    lam = np.asarray(lambdas)
    ell = np.cumsum(np.log1p(sign * (z[:, :, None] - m) * lam), axis=1)
    return _lse(ell) - np.log(lam.size)


def first_stop_general(
    z: np.ndarray, lambdas: Sequence[float], alpha: float, delta: float | None = None, block: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Generalization-mode decisions (+1 A, −1 B, 2 EQUIVALENT, 0 none) and n for float Z paths.

    Processes time in blocks and stops early once every path has stopped.
    """
    reps, n = z.shape
    lam = np.asarray(lambdas)
    thr = np.log(2 / alpha)
    sides = [(1.0, 0.0), (-1.0, 0.0)] + ([(-1.0, delta), (1.0, -delta)] if delta is not None else [])
    ell = np.zeros((len(sides), reps, lam.size))
    first = np.full((len(sides), reps), INF)
    for t0 in range(0, n, block):
        zz = z[:, t0 : t0 + block]
        for s, (d, m) in enumerate(sides):
            cum = ell[s][:, None, :] + np.cumsum(np.log1p(d * (zz[:, :, None] - m) * lam), axis=1)
            ell[s] = cum[:, -1, :]
            hit = (_lse(cum) - np.log(lam.size)) >= thr
            f = _first(hit)
            first[s] = np.where((first[s] == INF) & (f != INF), t0 + f, first[s])
        done = np.minimum(first[0], first[1]) != INF
        if delta is not None:
            done |= (first[2] != INF) & (first[3] != INF)
        if done.all():
            break
    t_ab = np.minimum(first[0], first[1])
    t_eq = np.maximum(first[2], first[3]) if delta is not None else np.full(reps, INF)
    dec = np.where(t_ab <= t_eq, np.where(t_ab == INF, 0, np.where(first[0] < first[1], 1, -1)), 2)
    t = np.minimum(t_ab, t_eq)
    used = np.where(t == INF, n, t + 1)
    return dec, used


def first_stop_bank(z: np.ndarray, lambdas: Sequence[float], alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bank mode (N = z.shape[1]): decisions (+1/−1/2 tie), n used, and what decided
    (0 e-value, 1 exact curtailment, 2 end of the bank)."""
    reps, N = z.shape
    lam = np.asarray(lambdas)
    thr = np.log(2 / alpha)
    s = np.cumsum(z, axis=1)
    s_prev = s - z
    t = np.arange(1, N + 1)
    mu = -s_prev / (N - t + 1)
    skip = np.abs(mu) > 1
    firsts = []
    for d in (1.0, -1.0):
        with np.errstate(divide="ignore", invalid="ignore"):
            inc = np.log1p(d * (z - mu)[:, :, None] * lam)
        inc[skip] = 0.0
        le = _lse(np.cumsum(inc, axis=1)) - np.log(lam.size)
        firsts.append(_first(le >= thr))
    t_e = np.minimum(firsts[0], firsts[1])
    t_c = _first(np.abs(s) > (N - t))
    dec_e = np.where(firsts[0] < firsts[1], 1, -1)
    s_n = s[:, -1]
    final = np.sign(s_n).astype(int)
    final = np.where(final == 0, 2, final)
    dec_c = np.sign(s[np.arange(reps), np.minimum(t_c, N - 1)]).astype(int)
    use_e = (t_e != INF) & (t_e <= t_c)
    use_c = ~use_e & (t_c != INF)
    dec = np.where(use_e, dec_e, np.where(use_c, dec_c, final))
    used = np.where(use_e, t_e + 1, np.where(use_c, t_c + 1, N))
    kind = np.where(use_e, 0, np.where(use_c, 1, 2))  # 0 e-value, 1 curtailment, 2 end of bank
    return dec, used, kind


def first_stop_binary_eq(z: np.ndarray, bound: np.ndarray, lambdas: Sequence[float], alpha: float, delta: float,
                         block: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Binary Z paths with an equivalence margin: like first_stop_general(..., delta) but with the
    count boundary for the A/B sides and closed forms in (n10, n01, n0) for eq_hi/eq_lo (float32)."""
    reps, n = z.shape
    dec_ab, used_ab = first_stop_binary(z, bound)
    t_ab = np.where(dec_ab != 0, used_ab - 1, INF)
    lam = np.asarray(lambdas)
    thr = np.float32(np.log(2 / alpha) + np.log(lam.size))
    # per-λ log factors of Z = +1, −1, 0 for eq_hi (payoff δ − Z) and eq_lo (payoff Z + δ)
    fac = {
        "hi": [np.log1p(lam * (delta - v)).astype(np.float32) for v in (1, -1, 0)],
        "lo": [np.log1p(lam * (v + delta)).astype(np.float32) for v in (1, -1, 0)],
    }
    first = {"hi": np.full(reps, INF), "lo": np.full(reps, INF)}
    c = np.zeros((3, reps), dtype=np.float32)
    for t0 in range(0, n, block):
        zz = z[:, t0 : t0 + block]
        cum = [c[0][:, None] + np.cumsum(zz == 1, axis=1), c[1][:, None] + np.cumsum(zz == -1, axis=1),
               c[2][:, None] + np.cumsum(zz == 0, axis=1)]
        for s, f in fac.items():
            ell = cum[0][:, :, None] * f[0] + cum[1][:, :, None] * f[1] + cum[2][:, :, None] * f[2]
            mx = ell.max(axis=2)
            hit = (mx + np.log(np.exp(ell - mx[:, :, None]).sum(axis=2))) >= thr
            fs = _first(hit)
            first[s] = np.where((first[s] == INF) & (fs != INF), t0 + fs, first[s])
        c = np.stack([cum[0][:, -1], cum[1][:, -1], cum[2][:, -1]]).astype(np.float32)
        t_eq = np.maximum(first["hi"], first["lo"])
        if np.all(np.minimum(t_ab, t_eq) < t0 + block):
            break
    t_eq = np.maximum(first["hi"], first["lo"])
    dec = np.where(t_ab <= t_eq, dec_ab, 2)
    t = np.minimum(t_ab, t_eq)
    return dec, np.where(t == INF, n, t + 1)


def beta_prob_greater_many(a1: np.ndarray, b1: np.ndarray, a2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Vectorised P(X > Y), X ~ Beta(a1, b1), Y ~ Beta(a2, b2): the same split Gauss–Legendre rule as
    bayesbench.stats._posteriors.beta_prob_greater, over arrays of parameters."""
    from scipy import special, stats

    gx, gw = np.polynomial.legendre.leggauss(64)
    lo = stats.beta.ppf(1e-13, a1, b1)[..., None]
    hi = stats.beta.ppf(1 - 1e-13, a1, b1)[..., None]
    edges = lo + (hi - lo) * np.linspace(0, 1, 9)
    mid = 0.5 * (edges[..., 1:] + edges[..., :-1])
    half = 0.5 * (edges[..., 1:] - edges[..., :-1])
    x = (mid[..., None] + half[..., None] * gx).reshape(*a1.shape, -1)
    w = (half[..., None] * gw).reshape(*a1.shape, -1)
    f = stats.beta.pdf(x, a1[..., None], b1[..., None]) * special.betainc(a2[..., None], b2[..., None], x)
    return np.clip((w * f).sum(axis=-1), 0.0, 1.0)
