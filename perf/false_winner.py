"""False-winner rate between two EQUAL models: the original posterior rule vs the anytime engine.

    python perf/false_winner.py [--reps 200 --horizon 10000 --seed 0]

Binary scores, six settings (accuracy 0.5 / 0.7 / 0.9, independent or correlated through a shared
per-problem difficulty d ~ N(0, 1.5^2)), every rule checked after every problem up to the horizon:

* posterior, skip off: Beta(1/2, 1/2) posteriors per model, stop when P(A > B) >= 0.95 or <= 0.05
  (exact for n <= 60 via the library's quadrature, normal approximation beyond, as the original does);
* posterior, as shipped: the same plus the skip window (stop as "non-discriminating" when
  0.15 < P < 0.85 at n >= 3);
* anytime: the library's grid-mixture e-process at alpha = 0.05 (closed form on the discordant counts).

Prints, per rule and setting, the false-winner rate (with its Monte-Carlo standard error) and the
mean number of problems used. The anytime engine must stay <= 0.05; the posterior rule does not.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import stats

from bayesbench.stats import EngineConfig
from bayesbench.stats._posteriors import beta_prob_greater

SETTINGS = [(p, corr) for p in (0.5, 0.7, 0.9) for corr in (False, True)]


def simulate(rng: np.random.Generator, reps: int, n: int, p: float, correlated: bool) -> tuple[np.ndarray, np.ndarray]:
    if correlated:
        # the ability giving accuracy p on average over d ~ N(0, 1.5^2), by a few Newton-free bisections
        lo, hi = -10.0, 10.0
        grid = rng.normal(0, 1.5, 200_000)
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.mean(1 / (1 + np.exp(-(mid - grid)))) < p else (lo, mid)
        d = rng.normal(0, 1.5, (reps, n))
        prob = 1 / (1 + np.exp(-((lo + hi) / 2 - d)))
    else:
        prob = np.full((reps, n), p)
    return (rng.random((reps, n)) < prob).astype(np.int8), (rng.random((reps, n)) < prob).astype(np.int8)


def first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True per row, or -1."""
    idx = mask.argmax(axis=1)
    return np.where(mask.any(axis=1), idx, -1)


def posterior_rule(a: np.ndarray, b: np.ndarray, skip: bool) -> tuple[float, float]:
    reps, n = a.shape
    t = np.arange(1, n + 1)
    sa, sb = np.cumsum(a, axis=1), np.cumsum(b, axis=1)
    al_a, be_a, al_b, be_b = 0.5 + sa, 0.5 + t - sa, 0.5 + sb, 0.5 + t - sb
    ta, tb = al_a + be_a, al_b + be_b
    mean = al_a / ta - al_b / tb
    var = al_a * be_a / (ta**2 * (ta + 1)) + al_b * be_b / (tb**2 * (tb + 1))
    p = stats.norm.cdf(mean / np.sqrt(var))
    for r in range(reps):  # exact quadrature where the original uses it (n <= 60)
        for k in range(min(60, n)):
            p[r, k] = beta_prob_greater(al_a[r, k], be_a[r, k], al_b[r, k], be_b[r, k])
    p[:, :2] = 0.5  # no decision before n = 3
    win = (p >= 0.95) | (p <= 0.05)
    stop = win | ((p > 0.15) & (p < 0.85) & (t >= 3)[None, :]) if skip else win
    first = first_true(stop)
    fired = (first >= 0) & win[np.arange(reps), np.maximum(first, 0)]
    used = np.where(first >= 0, first + 1, n)
    return float(fired.mean()), float(used.mean())


def anytime_rule(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    cfg = EngineConfig()
    lam = np.asarray(cfg.lambdas)
    z = a.astype(np.int16) - b.astype(np.int16)
    n10, n01 = np.cumsum(z == 1, axis=1), np.cumsum(z == -1, axis=1)
    thr = cfg.log_threshold
    log_g = math.log(len(lam))

    def log_k(wins: np.ndarray, losses: np.ndarray) -> np.ndarray:
        terms = wins[..., None] * np.log1p(lam) + losses[..., None] * np.log1p(-lam)
        mx = terms.max(axis=-1)
        return mx + np.log(np.exp(terms - mx[..., None]).sum(axis=-1)) - log_g

    first = first_true((log_k(n10, n01) >= thr) | (log_k(n01, n10) >= thr))
    n = a.shape[1]
    return float((first >= 0).mean()), float(np.where(first >= 0, first + 1, n).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--horizon", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"equal models, horizon {args.horizon}, {args.reps} replications per setting, alpha = 0.05")
    print(f"{'setting':<18} {'posterior (skip off)':>22} {'posterior (as shipped)':>24} {'anytime (default)':>20}")
    worst = {"off": 0.0, "shipped": 0.0, "anytime": 0.0}
    t0 = time.perf_counter()
    for p, corr in SETTINGS:
        a, b = simulate(rng, args.reps, args.horizon, p, corr)
        off = posterior_rule(a, b, skip=False)
        shipped = posterior_rule(a, b, skip=True)
        anytime = anytime_rule(a, b)
        for key, val in (("off", off), ("shipped", shipped), ("anytime", anytime)):
            worst[key] = max(worst[key], val[0])
        se = lambda q: math.sqrt(q * (1 - q) / args.reps)  # noqa: E731
        cells = [f"{v[0]:.3f}±{se(v[0]):.3f} n={v[1]:.0f}" for v in (off, shipped, anytime)]
        label = f"p={p} {'correlated' if corr else 'independent'}"
        print(f"{label:<18} {cells[0]:>22} {cells[1]:>24} {cells[2]:>20}")
    print(f"{'worst setting':<18} {worst['off']:>22.3f} {worst['shipped']:>24.3f} {worst['anytime']:>20.3f}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
