"""Repeated runs: separating between-run (sampling) variance from item-sampling error.

A run matrix ``scores[i, r]`` holds problem ``i``'s score in run ``r``. The one-way random-effects
model ``y_ir = mu + u_i + e_ir`` (``Var u = sigma2_item``: problems differ; ``Var e = sigma2_run``: the
same problem scores differently run to run) gives, for ``n`` problems and ``R`` runs,
``Var(mean) = sigma2_item / n + sigma2_run / (n R)``: more runs shrink only the second term. Problems
are the independent (exchangeable) unit, so standard errors are clustered by problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._report import StatResult, as_values, check_count, check_level, check_seed

__all__ = ["ClusteredMean", "RepeatedRunsSummary", "clustered_mean", "cluster_bootstrap", "BootstrapResult",
           "repeated_runs"]


def as_run_matrix(scores: Any) -> np.ndarray:
    """``scores`` as an (n problems, R runs) float array with n >= 2, R >= 1, all finite."""
    try:
        arr = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError("`scores` must be a rectangular table: one row per problem, one column per run "
                          "(every problem asked the same number of times)") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise ConfigError(f"`scores` must be a (problems x runs) table with at least 2 problems, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError("`scores` must hold finite numbers only (score a failed call as the lowest score)")
    return arr


@dataclass(frozen=True)
class ClusteredMean(StatResult):
    """Mean of ``values`` with a cluster-robust (CR1) standard error: observations in one cluster (the
    runs of one problem) may be correlated, clusters are independent."""

    method: str
    estimate: float
    se: float
    se_naive: float
    level: float
    low: float
    high: float
    n: int
    n_clusters: int

    def summary(self) -> str:
        return (f"{self.estimate:.4g} ± {self.se:.3g} (clustered SE over {self.n_clusters} problems; "
                f"naive SE {self.se_naive:.3g}), {self.level:.0%} interval [{self.low:.4g}, {self.high:.4g}], "
                f"n={self.n}")


def clustered_mean(values: Any, clusters: Any, *, level: float = 0.95) -> ClusteredMean:
    """The mean of ``values`` with its CR1 cluster-robust standard error (the small-sample factor
    G/(G-1) of Stata and statsmodels) and a t interval on G - 1 degrees of freedom."""
    from scipy import stats

    y = as_values("values", values, minimum=2)
    g = np.asarray(clusters)
    if g.ndim != 1 or g.shape[0] != y.shape[0]:
        raise ConfigError(f"`clusters` must give one cluster label per value ({y.shape[0]}), got shape {g.shape}")
    level = check_level(level)
    labels, idx = np.unique(g, return_inverse=True)
    n_g = int(labels.shape[0])
    if n_g < 2:
        raise ConfigError("`clusters` must name at least 2 clusters (problems): one cluster has no spread to measure")
    n = int(y.shape[0])
    mean = float(y.mean())
    sums = np.bincount(idx, weights=y - mean, minlength=n_g)
    se = math.sqrt(n_g / (n_g - 1) * float(np.sum(sums**2))) / n
    se_naive = float(y.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + level / 2, n_g - 1)) * se
    return ClusteredMean("cluster-robust (CR1) mean", mean, se, se_naive, level, mean - half, mean + half, n, n_g)


@dataclass(frozen=True)
class BootstrapResult(StatResult):
    """Percentile interval and standard error of the grand mean from a cluster bootstrap."""

    method: str
    estimate: float
    se: float
    low: float
    high: float
    level: float
    n: int
    n_runs: int
    seed: int
    n_resamples: int

    def summary(self) -> str:
        return (f"{self.estimate:.4g} ± {self.se:.3g} ({self.method}), {self.level:.0%} interval "
                f"[{self.low:.4g}, {self.high:.4g}], {self.n} problems x {self.n_runs} runs, "
                f"{self.n_resamples} resamples, seed {self.seed}")


def cluster_bootstrap(scores: Any, *, levels: str = "problems", level: float = 0.95, n_resamples: int = 2000,
                      seed: int | None = None) -> BootstrapResult:
    """Bootstrap the grand mean of a (problems x runs) matrix.

    ``levels="problems"`` (default) resamples whole problems (rows, all their runs): consistent for the
    variance of the mean under the random-effects model. ``levels="both"`` also resamples runs within each
    resampled problem (the two-level bootstrap); it counts the run-to-run variance twice, so its SE is
    slightly larger (by about sigma2_run/(n R) in variance): conservative.
    """
    x = as_run_matrix(scores)
    if levels not in ("problems", "both"):
        raise ConfigError(f"`levels` must be 'problems' or 'both', got {levels!r}")
    level = check_level(level)
    resamples = check_count("n_resamples", n_resamples, minimum=100)
    used = check_seed(seed)
    rng = np.random.default_rng(used)
    n, runs = x.shape
    means = np.empty(resamples)
    block = max(1, min(256, 2_000_000 // (n * runs)))  # resamples per block: <= ~16 MB of draws at once
    for start in range(0, resamples, block):
        k = min(block, resamples - start)
        rows = rng.integers(0, n, size=(k, n))
        picked = x[rows]  # (k, n, runs)
        if levels == "both" and runs > 1:
            cols = rng.integers(0, runs, size=(k, n, runs))
            picked = np.take_along_axis(picked, cols, axis=2)
        means[start:start + k] = picked.mean(axis=(1, 2))
    tail = (1 - level) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    method = "cluster bootstrap (problems)" if levels == "problems" else "two-level bootstrap (problems, then runs)"
    return BootstrapResult(method, float(x.mean()), float(means.std(ddof=1)), float(lo), float(hi), level, int(n),
                           int(runs), used, resamples)


@dataclass(frozen=True)
class RepeatedRunsSummary(StatResult):
    """What repeated runs say about a score: its mean, the two variance components, and standard errors.

    ``sigma2_item``: variance between problems' true scores (item-sampling error is sigma2_item / n);
    ``sigma2_run``: variance of one problem's score from run to run (between-run variance);
    ``se``: standard error of the mean, clustered by problem (both sources);
    ``se_item`` / ``se_run``: the two parts of ``se`` (``se**2 = se_item**2 + se_run**2``);
    ``run_means`` / ``sd_between_runs``: each run's mean score and their spread (what "± sd over runs" reports);
    ``icc``: share of a single score's variance due to the problem.
    """

    method: str
    mean: float
    se: float
    se_item: float
    se_run: float
    sigma2_item: float
    sigma2_run: float
    icc: float
    run_means: tuple[float, ...]
    sd_between_runs: float
    level: float
    low: float
    high: float
    n: int
    n_runs: int

    def summary(self) -> str:
        return (f"mean {self.mean:.4g} ± {self.se:.3g} (SE clustered by problem; item part {self.se_item:.3g}, "
                f"run part {self.se_run:.3g}), {self.level:.0%} interval [{self.low:.4g}, {self.high:.4g}]; "
                f"between-run variance {self.sigma2_run:.3g}, between-problem {self.sigma2_item:.3g}; "
                f"{self.n} problems x {self.n_runs} runs, run means sd {self.sd_between_runs:.3g}")


def repeated_runs(scores: Any, *, level: float = 0.95) -> RepeatedRunsSummary:
    """Variance components (one-way random-effects ANOVA, method of moments) and clustered standard error
    of a (problems x runs) score matrix; with one run the between-run variance cannot be told apart
    (reported as NaN, ``se`` is then the plain item standard error)."""
    from scipy import stats

    x = as_run_matrix(scores)
    level = check_level(level)
    n, runs = x.shape
    item_means = x.mean(axis=1)
    mean = float(item_means.mean())
    ms_between = float(item_means.var(ddof=1)) * runs  # mean square between problems
    # clustered SE of the grand mean for a balanced design = sd of the problem means / sqrt(n)
    se = math.sqrt(ms_between / (n * runs))
    if runs > 1:
        ms_within = float(np.sum((x - item_means[:, None]) ** 2)) / (n * (runs - 1))
        sigma2_run = ms_within
        sigma2_item = max(0.0, (ms_between - ms_within) / runs)
        se_run = math.sqrt(sigma2_run / (n * runs))
        se_item = math.sqrt(max(0.0, se**2 - se_run**2))
        total = sigma2_item + sigma2_run
        icc = sigma2_item / total if total > 0 else float("nan")
        run_means = x.mean(axis=0)
        sd_runs = float(run_means.std(ddof=1))
    else:
        sigma2_run = se_run = icc = sd_runs = float("nan")
        sigma2_item = ms_between
        se_item = se
        run_means = x.mean(axis=0)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    return RepeatedRunsSummary("one-way random effects (moments), SE clustered by problem", mean, se, se_item, se_run,
                               sigma2_item, sigma2_run, icc, tuple(float(v) for v in run_means), sd_runs, level,
                               mean - half, mean + half, int(n), int(runs))
