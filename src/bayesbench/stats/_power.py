"""Power and sample size of fixed-n tests, for planning a run before it starts.

* ``mcnemar_power``: the exact (conditional binomial) McNemar test on n paired problems, computed exactly:
  the number of discordant pairs M ~ Bin(n, psi) and, given M = m, the a-only wins ~ Bin(m, (psi + gap) / (2 psi)).
* ``two_proportion_power``: two independent samples of n each, the arcsine (Cohen's h) normal test
  (what statsmodels' NormalIndPower computes).
``*_sample_size`` invert them; ``mcnemar_detectable_gap`` inverts in the gap.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._report import StatResult, check_count, check_level, check_proportion

__all__ = ["PowerResult", "mcnemar_power", "mcnemar_sample_size", "mcnemar_detectable_gap", "two_proportion_power",
           "two_proportion_sample_size", "paired_cells"]


@dataclass(frozen=True)
class PowerResult(StatResult):
    """Power of ``method`` at ``n`` (problems per model) for the effect described in ``effect``."""

    method: str
    n: int
    power: float
    alpha: float
    alternative: str
    effect: dict[str, float]

    def summary(self) -> str:
        effect = ", ".join(f"{k}={v:.4g}" for k, v in self.effect.items())
        return f"{self.method}: power {self.power:.3f} with n={self.n} at alpha={self.alpha:g} ({self.alternative}; {effect})"


def paired_cells(accuracy_a: float, accuracy_b: float, discordance: float | None = None) -> tuple[float, float]:
    """(P(a right, b wrong), P(a wrong, b right)) from two accuracies and the discordance P(a != b);
    ``discordance`` None assumes the two models err independently."""
    pa = check_proportion("accuracy_a", accuracy_a)
    pb = check_proportion("accuracy_b", accuracy_b)
    if discordance is None:
        return pa * (1 - pb), pb * (1 - pa)
    d = check_proportion("discordance", discordance)
    gap = pa - pb
    p10, p01 = (d + gap) / 2, (d - gap) / 2
    lo = abs(gap)
    hi = min(pa + pb, 2 - pa - pb)  # both-right and both-wrong cells stay >= 0
    if not (lo - 1e-12 <= d <= hi + 1e-12):
        raise ConfigError(f"`discordance` (P(a != b)) must be in [{lo:.4g}, {hi:.4g}] for accuracies {pa:g} and {pb:g}, "
                          f"got {d!r}; None assumes independent errors ({pa * (1 - pb) + pb * (1 - pa):.4g})")
    return max(p10, 0.0), max(p01, 0.0)


def _alpha(alpha: Any) -> float:
    a = check_level(alpha, "alpha")
    if a >= 0.5:
        raise ConfigError(f"`alpha` must be in (0, 0.5), e.g. 0.05, got {alpha!r}")
    return a


@functools.lru_cache(maxsize=16)
def _critical_values(size: int, alpha: float) -> np.ndarray:
    """For m = 0..size-1 discordant pairs: the largest k with 2 P(K <= k) <= alpha, K ~ Bin(m, 1/2) (-1: none).
    The two-sided exact binomial test at p = 1/2 rejects k <= c_m or k >= m - c_m. Depends on m and alpha only,
    so a sample-size search computes it once."""
    from scipy import stats

    m = np.arange(size)
    c = np.floor(m / 2 - stats.norm.isf(alpha / 2) * np.sqrt(m) / 2).clip(-1, None)  # normal guess, then exact
    for _ in range(50):
        up = stats.binom.cdf(c + 1, m, 0.5) <= alpha / 2
        down = (c >= 0) & (stats.binom.cdf(c, m, 0.5) > alpha / 2)
        if not (up.any() or down.any()):
            break
        c = c + up - down
    c.setflags(write=False)
    return c


def _mcnemar_power(n: int, p10: float, p01: float, alpha: float) -> float:
    from scipy import stats

    psi = p10 + p01
    if psi <= 0:
        return 0.0
    m = np.arange(n + 1)
    theta = p10 / psi
    c = _critical_values(1 << (n + 1).bit_length(), alpha)[: n + 1]  # sizes rounded up to a power of 2: reused
    reject = np.where(c >= 0, stats.binom.cdf(c, m, theta) + stats.binom.sf(m - c - 1, m, theta), 0.0)
    return float(np.sum(stats.binom.pmf(m, n, psi) * np.clip(reject, 0.0, 1.0)))


def mcnemar_power(n: int, accuracy_a: float, accuracy_b: float, *, discordance: float | None = None,
                  alpha: float = 0.05) -> PowerResult:
    """Power of the two-sided exact McNemar test with ``n`` paired problems (exact, no approximation)."""
    n = check_count("n", n)
    p10, p01 = paired_cells(accuracy_a, accuracy_b, discordance)
    alpha = _alpha(alpha)
    return PowerResult("exact McNemar", n, _mcnemar_power(n, p10, p01, alpha), alpha, "two-sided",
                       {"accuracy_a": float(accuracy_a), "accuracy_b": float(accuracy_b), "discordance": p10 + p01})


def mcnemar_sample_size(accuracy_a: float, accuracy_b: float, *, discordance: float | None = None,
                        alpha: float = 0.05, power: float = 0.8, max_n: int = 1_000_000) -> PowerResult:
    """The smallest n whose exact McNemar power reaches ``power`` (searched upward from Connor's (1987)
    normal approximation, since exact power is not monotone in n)."""
    from scipy import stats

    p10, p01 = paired_cells(accuracy_a, accuracy_b, discordance)
    alpha = _alpha(alpha)
    target = check_level(power, "power")
    gap, psi = p10 - p01, p10 + p01
    if gap == 0:
        raise ConfigError("the accuracies are equal: no sample size detects a zero gap; give different accuracies")
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(target)
    approx = (za * math.sqrt(psi) + zb * math.sqrt(max(psi - gap**2, 0.0))) ** 2 / gap**2
    n = max(1, int(0.97 * approx))  # the exact test is a little conservative: its n is at or above Connor's
    while _mcnemar_power(n, p10, p01, alpha) < target:
        n += max(1, n // 200)  # steps of 0.5 %, then refined below
        if n > max_n:
            raise ConfigError(f"more than max_n={max_n} problems are needed for power {target:g}; the gap is too small")
    step = max(1, n // 200)
    lo = max(1, n - step)
    while lo < n and _mcnemar_power(lo, p10, p01, alpha) >= target:
        n = lo
        lo -= 1
    while lo < n - 1:  # the first n in the last step that reaches the target
        lo += 1
        if _mcnemar_power(lo, p10, p01, alpha) >= target:
            n = lo
            break
    return PowerResult("exact McNemar", n, _mcnemar_power(n, p10, p01, alpha), alpha, "two-sided",
                       {"accuracy_a": float(accuracy_a), "accuracy_b": float(accuracy_b), "discordance": psi})


def mcnemar_detectable_gap(n: int, base_rate: float, *, discordance: float | None = None, alpha: float = 0.05,
                           power: float = 0.8) -> float:
    """The smallest gap (accuracy_a - base_rate) the exact McNemar test detects with ``power`` using ``n``
    problems; ``discordance`` None: independent errors at each gap. NaN when even the largest gap is not enough."""
    n = check_count("n", n)
    base = check_proportion("base_rate", base_rate)
    alpha = _alpha(alpha)
    target = check_level(power, "power")

    def pw(gap: float) -> float:
        pa = min(1.0, base + gap)
        d = discordance
        if d is not None:
            d = min(max(d, abs(pa - base)), min(pa + base, 2 - pa - base))
        p10, p01 = paired_cells(pa, base, d)
        return _mcnemar_power(n, p10, p01, alpha)

    hi = 1.0 - base
    if hi <= 0 or pw(hi) < target:
        return float("nan")
    lo = 0.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if pw(mid) < target else (lo, mid)
    return hi


def _h(pa: float, pb: float) -> float:
    return 2 * math.asin(math.sqrt(pa)) - 2 * math.asin(math.sqrt(pb))


def _two_prop_power(n: float, h: float, alpha: float) -> float:
    from scipy import stats

    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(h) * math.sqrt(n / 2)
    return float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))


def two_proportion_power(n: int, accuracy_a: float, accuracy_b: float, *, alpha: float = 0.05) -> PowerResult:
    """Power of the two-sided two-sample test of proportions (arcsine / Cohen's h normal test), n per group:
    for comparisons on different problem samples."""
    n = check_count("n", n)
    pa, pb = check_proportion("accuracy_a", accuracy_a), check_proportion("accuracy_b", accuracy_b)
    alpha = _alpha(alpha)
    return PowerResult("two-proportion (arcsine normal)", n, _two_prop_power(n, _h(pa, pb), alpha), alpha,
                       "two-sided", {"accuracy_a": pa, "accuracy_b": pb, "cohens_h": _h(pa, pb)})


def two_proportion_sample_size(accuracy_a: float, accuracy_b: float, *, alpha: float = 0.05,
                               power: float = 0.8) -> PowerResult:
    """The smallest n per group reaching ``power`` with :func:`two_proportion_power`."""
    from scipy import optimize

    pa, pb = check_proportion("accuracy_a", accuracy_a), check_proportion("accuracy_b", accuracy_b)
    alpha = _alpha(alpha)
    target = check_level(power, "power")
    h = _h(pa, pb)
    if h == 0:
        raise ConfigError("the accuracies are equal: no sample size detects a zero gap; give different accuracies")
    exact = optimize.brentq(lambda n: _two_prop_power(n, h, alpha) - target, 1e-6, 1e9)
    n = max(1, math.ceil(exact - 1e-9))
    return PowerResult("two-proportion (arcsine normal)", n, _two_prop_power(n, h, alpha), alpha, "two-sided",
                       {"accuracy_a": pa, "accuracy_b": pb, "cohens_h": h, "n_exact": float(exact)})
