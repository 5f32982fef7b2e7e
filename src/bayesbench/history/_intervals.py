"""Intervals for a bank-wide mean: betting confidence sequence, martingale-CLT interval, Wilson, exact.

The confidence sequence (Waudby-Smith & Ramdas 2023, hedged capital, predictable plug-in bets) needs
terms x_s with a constant conditional mean theta and bounds [lo_s, hi_s] known *before* x_s is drawn.
For every candidate mean m on a grid over [0, 1] it keeps the hedged capital
    K(m) = 1/2 prod(1 + l+_s (x_s - m)) + 1/2 prod(1 - l-_s (x_s - m)),
with l+_s <= c/(m - lo_s) and l-_s <= c/(hi_s - m) so every factor stays positive. K(theta) is a
nonnegative martingale with mean 1, so by Ville P(sup_s K_s(theta) >= 1/alpha) <= alpha: the set of m
never rejected covers theta at every step simultaneously.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import stats

__all__ = ["BettingCS", "clopper_pearson", "normal_interval", "wilson"]

_C = 0.75  # bet cap: factors stay >= 1 - c > 0


class BettingCS:
    """Anytime-valid (1 - alpha) confidence sequence for a constant conditional mean in [0, 1]."""

    def __init__(self, alpha: float, grid: int = 2001, prior_var: float = 0.25) -> None:
        """``prior_var``: a guess of one term's variance, used (as one pseudo-term) by the first bets."""
        self.alpha = alpha
        self.m = np.linspace(0.0, 1.0, grid)
        self._step = 1.0 / (grid - 1)
        self._lp = np.zeros(grid)  # log capital betting on "mean > m"
        self._lm = np.zeros(grid)  # log capital betting on "mean < m"
        self._alive = np.ones(grid, dtype=bool)
        self._i0, self._i1 = 0, grid  # the window [i0, i1) holding every surviving m
        self._log_thr = math.log(1.0 / alpha)
        self._prior_var = prior_var
        self._sq = 0.0
        self._sum = 0.0
        self.t = 0

    def _bet(self) -> float:
        t = self.t + 1
        var = (self._prior_var + self._sq) / t  # predictable: only terms before this one
        return math.sqrt(2.0 * math.log(2.0 / self.alpha) / (max(var, 1e-12) * t * math.log(1.0 + t)))

    def update(self, x: float, lo: float, hi: float) -> None:
        """Add the term x, whose bounds lo <= x <= hi were known before it was drawn."""
        if not (lo - 1e-9 <= x <= hi + 1e-9):
            raise AssertionError(f"term {x} outside its predictable bounds [{lo}, {hi}]")
        lam = self._bet()
        # only the window from the first to the last surviving m is updated: a rejected m stays rejected
        # (the running intersection), so its capital is never looked at again
        w = slice(self._i0, self._i1)
        m = self.m[w]
        with np.errstate(divide="ignore"):
            cap_p = np.where(m > lo, _C / np.maximum(m - lo, 1e-300), np.inf)
            cap_m = np.where(hi > m, _C / np.maximum(hi - m, 1e-300), np.inf)
        lp = np.minimum(lam, cap_p)
        lm = np.minimum(lam, cap_m)
        d = x - m
        self._lp[w] += np.log1p(lp * d)
        self._lm[w] += np.log1p(-lm * d)
        logk = np.logaddexp(self._lp[w], self._lm[w]) - math.log(2.0)
        alive = self._alive[w]
        alive &= logk < self._log_thr
        idx = np.flatnonzero(alive)
        if idx.size:
            self._i0, self._i1 = self._i0 + int(idx[0]), self._i0 + int(idx[-1]) + 1
        else:
            self._i1 = self._i0
        # variance of x for the next bet: squared deviation from the running mean before x
        mu_prev = self._sum / self.t if self.t else x
        self._sq += (x - mu_prev) ** 2
        self._sum += x
        self.t += 1

    @property
    def interval(self) -> tuple[float, float]:
        if self._i1 <= self._i0:  # every m rejected (probability <= alpha): report the last running mean
            mu = min(1.0, max(0.0, self._sum / max(self.t, 1)))
            return (mu, mu)
        return (max(0.0, self.m[self._i0] - self._step), min(1.0, self.m[self._i1 - 1] + self._step))


@functools.lru_cache(maxsize=32)
def z_quantile(confidence: float) -> float:
    """The two-sided normal quantile z_{1 - alpha/2}."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


@functools.lru_cache(maxsize=256)
def t_quantile(confidence: float, df: int) -> float:
    """The two-sided Student-t quantile (the small-sample version of z_{1 - alpha/2})."""
    return float(stats.t.ppf(0.5 + confidence / 2, df))


def normal_interval(mean: float, se: float, confidence: float, df: int | None = None) -> tuple[float, float]:
    """mean +- q se, q the normal quantile, or Student-t with ``df`` degrees of freedom when given."""
    z = z_quantile(confidence) if df is None else t_quantile(confidence, df)
    return (max(0.0, mean - z * se), min(1.0, mean + z * se))


def wilson(successes: float, n: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval for a proportion (fractional successes allowed)."""
    if n == 0:
        return (0.0, 1.0)
    z = z_quantile(confidence)
    p = successes / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def clopper_pearson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion."""
    a = 1 - confidence
    lo = 0.0 if successes == 0 else float(stats.beta.ppf(a / 2, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(stats.beta.ppf(1 - a / 2, successes + 1, n - successes))
    return (lo, hi)
