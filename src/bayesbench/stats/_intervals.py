"""Confidence intervals: Wilson and Clopper–Pearson for a proportion, t for a mean, BCa bootstrap for any
statistic. Thin, checked wrappers over scipy (imported on first use), returning :class:`Interval`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._report import StatResult, as_values, check_count, check_level, check_seed

__all__ = ["Interval", "wilson_interval", "clopper_pearson_interval", "t_interval", "bootstrap_interval"]


@dataclass(frozen=True)
class Interval(StatResult):
    """A two-sided interval for ``estimate`` at ``level``; ``seed`` is set for resampling methods."""

    method: str
    estimate: float
    low: float
    high: float
    level: float
    n: int
    seed: int | None = None
    n_resamples: int | None = None

    def summary(self) -> str:
        extra = f", {self.n_resamples} resamples, seed {self.seed}" if self.seed is not None else ""
        return (f"{self.estimate:.4g} [{self.low:.4g}, {self.high:.4g}] ({self.level:.0%} {self.method}, "
                f"n={self.n}{extra})")


def _successes(successes: Any, n: Any) -> tuple[int, int]:
    trials = check_count("n", n)
    k = check_count("successes", successes, minimum=0)
    if k > trials:
        raise ConfigError(f"`successes` must be at most n={trials}, got {k}")
    return k, trials


def _binomial_interval(successes: Any, n: Any, level: Any, method: str, label: str) -> Interval:
    from scipy import stats  # on first use: keeps `import bayesbench` fast

    k, trials = _successes(successes, n)
    level = check_level(level)
    ci = stats.binomtest(k, trials).proportion_ci(confidence_level=level, method=method)
    return Interval(label, k / trials, float(ci.low), float(ci.high), level, trials)


def wilson_interval(successes: int, n: int, *, level: float = 0.95) -> Interval:
    """Wilson score interval for ``successes`` out of ``n`` (good coverage also near 0 and 1)."""
    return _binomial_interval(successes, n, level, "wilson", "Wilson score")


def clopper_pearson_interval(successes: int, n: int, *, level: float = 0.95) -> Interval:
    """Clopper–Pearson ('exact') interval: coverage at least ``level`` for every true proportion."""
    return _binomial_interval(successes, n, level, "exact", "Clopper-Pearson")


def t_interval(values: Any, *, level: float = 0.95) -> Interval:
    """Student-t interval for the mean of ``values`` (at least 2)."""
    from scipy import stats

    x = as_values("values", values, minimum=2)
    level = check_level(level)
    n = int(x.shape[0])
    mean = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return Interval("Student t", mean, mean - half, mean + half, level, n)


def bootstrap_interval(values: Any, statistic: Callable[[np.ndarray], float] | None = None, *, level: float = 0.95,
                       n_resamples: int = 9999, seed: int | None = None, method: str = "BCa") -> Interval:
    """Bootstrap interval of ``statistic`` (default: the mean) over ``values``; ``method`` is "BCa"
    (bias-corrected and accelerated, the default), "percentile" or "basic". ``seed`` None draws one
    (recorded in the result)."""
    from scipy import stats

    x = as_values("values", values, minimum=2)
    level = check_level(level)
    resamples = check_count("n_resamples", n_resamples, minimum=100)
    methods = {"bca": "BCa", "percentile": "percentile", "basic": "basic"}
    if not isinstance(method, str) or method.lower() not in methods:
        raise ConfigError(f"`method` must be one of 'BCa', 'percentile', 'basic', got {method!r}")
    if float(x.min()) == float(x.max()):
        raise ConfigError("`values` are all equal: a bootstrap interval is degenerate; report the value itself")
    used = check_seed(seed)
    fn = statistic if statistic is not None else np.mean
    if not callable(fn):
        raise ConfigError(f"`statistic` must be a function of a 1-D array, got {statistic!r}")

    def stat(sample: np.ndarray, axis: int = -1) -> Any:
        return np.apply_along_axis(fn, axis, sample) if statistic is not None else np.mean(sample, axis=axis)

    res = stats.bootstrap((x,), stat, n_resamples=resamples, confidence_level=level, method=methods[method.lower()],
                          vectorized=True, rng=np.random.default_rng(used))
    label = f"{methods[method.lower()]} bootstrap"
    return Interval(label, float(fn(x)), float(res.confidence_interval.low), float(res.confidence_interval.high),
                    level, int(x.shape[0]), seed=used, n_resamples=resamples)
