"""The betting CS updates only the window of surviving means; it must equal the full-grid computation."""

from __future__ import annotations

import math

import numpy as np

from bayesbench.history._intervals import _C, BettingCS


class _FullGrid(BettingCS):
    """The same confidence sequence updating every grid point at every step (the definition)."""

    def update(self, x: float, lo: float, hi: float) -> None:
        lam = self._bet()
        m = self.m
        with np.errstate(divide="ignore"):
            lp = np.minimum(lam, np.where(m > lo, _C / np.maximum(m - lo, 1e-300), np.inf))
            lm = np.minimum(lam, np.where(hi > m, _C / np.maximum(hi - m, 1e-300), np.inf))
        self._lp += np.log1p(lp * (x - m))
        self._lm += np.log1p(-lm * (x - m))
        self._alive &= np.logaddexp(self._lp, self._lm) - math.log(2.0) < self._log_thr
        mu_prev = self._sum / self.t if self.t else x
        self._sq += (x - mu_prev) ** 2
        self._sum += x
        self.t += 1

    @property
    def interval(self) -> tuple[float, float]:
        idx = np.flatnonzero(self._alive)
        if idx.size == 0:
            mu = min(1.0, max(0.0, self._sum / max(self.t, 1)))
            return (mu, mu)
        return (max(0.0, self.m[idx[0]] - self._step), min(1.0, self.m[idx[-1]] + self._step))


def test_window_equals_the_full_grid_at_every_step():
    rng = np.random.default_rng(11)
    for run in range(60):
        fast, full = BettingCS(0.05, prior_var=0.1), _FullGrid(0.05, prior_var=0.1)
        theta = rng.random()
        for _ in range(150):
            lo, hi = -2 * rng.random(), 1 + 2 * rng.random()
            # well-behaved terms, and (every third run) adversarial ones that reject everything
            x = float(np.clip(theta + rng.normal(0, 0.4), lo, hi)) if run % 3 else float(rng.uniform(lo, hi))
            fast.update(x, lo, hi)
            full.update(x, lo, hi)
            assert fast.interval == full.interval
