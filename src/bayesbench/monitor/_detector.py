"""The lifetime regression e-process of one monitor metric, and e-BH across several.

Per item the engine's betting factor ``1 + λ·(D − δ)`` (statistics.md §3, the side "Δ ≤ m" of the paired
grid-mixture e-process, on the same λ-grid), where ``D ∈ [−1, 1]`` is the rescaled paired difference
"baseline minus new" (positive = worse) and ``δ`` the margin. One component per start run ``s`` (weight
``w_s = 1/(s(s+1))``, which sums to 1) multiplies the factors of every item from run ``s`` on; the monitor's
e-process is the weighted mixture of the components and of the λ-grid. A mixture of test supermartingales with
weights summing to 1 is one, so by Ville's inequality P(it ever reaches 1/α) ≤ α over the monitor's whole life
(docs/monitoring.md has the argument). The start-run mixture is what keeps a long quiet history from burying a
later change: the component started at the change run carries none of the earlier drift, at the price of
``log(1/w_s) ≈ 2·log s`` extra evidence.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from ..errors import ConfigError
from ..stats._sequential import DEFAULT_LAMBDAS, _lse_rows

__all__ = ["RegressionDetector", "DetectorState", "baseline_noise_margin", "e_bh"]

K = TypeVar("K", bound=Hashable)


def _unit(name: str, value: Any, *, lo: float = 0.0, hi: float = 1.0, open_lo: bool = True) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not ((value > lo if open_lo else value >= lo) and value < hi):
        left = "(" if open_lo else "["
        raise ConfigError(f"`{name}` must be in {left}{lo:g}, {hi:g}), got {value!r}")
    return float(value)


@dataclass(frozen=True)
class DetectorState:
    """The e-process after a run: current and running-max log e-value, and the run's own evidence."""

    runs: int
    n: int
    log_e: float
    log_e_max: float
    run_log_e: float
    threshold: float
    alarm: bool
    method: str = "start-mixture betting e-process (lifetime, Ville)"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def e_value(self) -> float:
        return math.exp(min(self.log_e, 700.0))

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "n": self.n, "log_e": self.log_e, "log_e_max": self.log_e_max,
                "run_log_e": self.run_log_e, "threshold": self.threshold, "alarm": self.alarm,
                "method": self.method, **self.extra}


class RegressionDetector:
    """Anytime-valid "worse than the baseline by more than ``margin``" test over unlimited runs.

    Parameters
    ----------
    alpha:
        Lifetime false-alarm level: P(any alarm ever | the null holds at every run) ≤ alpha. Default 0.05.
    margin:
        δ on the rescaled [0, 1] scale: the null is "mean of D = (baseline − new) ≤ δ" at every run. Default 0.02.
    lambdas:
        The betting grid (default: the engine's ``geomspace(0.005, 0.5, 12)``).

    Feed one run at a time with :meth:`update` (the run's per-item D in [−1, 1]); the alarm is on once the
    running maximum reached ``log(1/alpha)`` and stays on.
    """

    def __init__(self, *, alpha: float = 0.05, margin: float = 0.02,
                 lambdas: Sequence[float] = DEFAULT_LAMBDAS) -> None:
        self.alpha = _unit("alpha", alpha, hi=0.5)
        self.margin = _unit("margin", margin, open_lo=False)
        lam = np.asarray([float(x) for x in lambdas], dtype=float)
        if lam.size == 0 or not np.all((lam > 0) & (lam <= 0.5)):
            raise ConfigError(f"`lambdas` must be numbers in (0, 0.5], got {list(lambdas)!r}")
        self._lam = lam
        self._log_g = math.log(lam.size)
        self._ell = np.zeros(lam.size)  # cumulative log wealth per λ over all items
        self._starts = np.zeros((16, lam.size))  # row s-1: log wealth per λ at the start of run s (grown x2)
        self._log_w = np.zeros(16)
        self.runs = 0
        self.n = 0
        self.log_e = 0.0
        self.log_e_max = 0.0

    @property
    def threshold(self) -> float:
        """log(1/alpha)."""
        return math.log(1.0 / self.alpha)

    @staticmethod
    def start_log_weight(s: int) -> float:
        """log w_s, w_s = 1/(s(s+1)) for the component started at run s = 1, 2, ... (Σ w_s = 1)."""
        return -math.log(s) - math.log(s + 1)

    def update(self, diffs: Sequence[float] | np.ndarray) -> DetectorState:
        """Add one run: its per-item rescaled differences D = baseline − new (positive = worse), in [−1, 1]."""
        d = np.asarray(diffs, dtype=float).ravel()
        if d.size and not (np.all(np.isfinite(d)) and d.min() >= -1.0 and d.max() <= 1.0):
            raise ConfigError("per-item differences must be finite numbers in [-1, 1] (rescaled scores); "
                              f"got min {d.min()!r}, max {d.max()!r}")
        self.runs += 1
        if self.runs > self._log_w.size:
            self._starts = np.vstack([self._starts, np.zeros_like(self._starts)])
            self._log_w = np.append(self._log_w, np.zeros_like(self._log_w))
        self._starts[self.runs - 1] = self._ell
        self._log_w[self.runs - 1] = self.start_log_weight(self.runs)
        run_ell = np.log1p(np.multiply.outer(d - self.margin, self._lam)).sum(axis=0) if d.size else \
            np.zeros_like(self._ell)
        self._ell = self._ell + run_ell
        self.n += int(d.size)
        r = self.runs
        per_start = _lse_rows(self._ell[None, :] - self._starts[:r]) - self._log_g + self._log_w[:r]
        # components not started yet are still worth their weight: Σ_{s > runs} w_s = 1/(runs + 1)
        parts = np.append(per_start, -math.log(self.runs + 1))
        self.log_e = float(_lse_rows(parts[None, :])[0])
        self.log_e_max = max(self.log_e_max, self.log_e)
        run_log_e = float(_lse_rows(run_ell[None, :])[0]) - self._log_g
        return self.state(run_log_e)

    def state(self, run_log_e: float = 0.0) -> DetectorState:
        return DetectorState(runs=self.runs, n=self.n, log_e=self.log_e, log_e_max=self.log_e_max,
                             run_log_e=run_log_e, threshold=self.threshold,
                             alarm=self.log_e_max >= self.threshold, extra={"alpha": self.alpha,
                                                                             "margin": self.margin})


def baseline_noise_margin(n_baseline: int, alpha: float) -> float:
    """Hoeffding bound h on the baseline run's own noise: P(baseline mean − its expectation > h) ≤ alpha/2 for
    ``n_baseline`` independent scores in [0, 1]. Testing with margin δ + h at alpha/2 makes the lifetime guarantee
    unconditional (it then holds over the baseline run's randomness too): docs/monitoring.md."""
    if isinstance(n_baseline, bool) or not isinstance(n_baseline, int) or n_baseline < 1:
        raise ConfigError(f"`n_baseline` must be an integer >= 1, got {n_baseline!r}")
    return math.sqrt(math.log(2.0 / _unit("alpha", alpha, hi=0.5)) / (2.0 * n_baseline))


def e_bh(e_values: Mapping[K, float], *, alpha: float = 0.05) -> set[K]:
    """e-BH (Wang & Ramdas 2022): the keys whose hypotheses are rejected at FDR level ``alpha``.

    Reject the k̂ largest e-values, k̂ = max{k : e_(k) ≥ K / (alpha·k)}; valid under any dependence between them
    (the metrics of one model share its runs).
    """
    a = _unit("alpha", alpha, hi=1.0)
    items = sorted(e_values.items(), key=lambda kv: -float(kv[1]))
    k_total = len(items)
    k_hat = 0
    for k, (_, e) in enumerate(items, start=1):
        if float(e) >= k_total / (a * k):
            k_hat = k
    return {key for key, _ in items[:k_hat]}
