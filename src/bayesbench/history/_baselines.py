"""Baselines in the same API: the uniform sample mean and a tinyBenchmarks-style IRT estimate.

* Uniform: ``budget`` items drawn uniformly (without replacement for the fixed-n intervals, with
  replacement for ``ci="anytime"``, whose betting CS needs a constant conditional mean); Wilson or exact
  (Clopper-Pearson, 0/1 scores only) interval, or the betting CS.
* IRT (Polo et al. 2024, "tinyBenchmarks", their p-IRT): fixed anchor items chosen once per fit by
  k-means on the item factors (the item nearest each centre); the new model's factor is fitted to the
  anchors' answers by MAP under the bank prior; the estimate averages the asked anchors' scores and the
  predicted scores of every other item. Its interval covers only the Bernoulli noise of the unasked
  items given the fitted factor (no guarantee: model error is ignored), reported as ``ci_kind="model"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from ..errors import ConfigError
from ._common import Asker, check_common
from ._intervals import BettingCS, clopper_pearson, normal_interval, wilson
from ._result import Estimate

__all__ = ["anchor_items", "estimate_irt", "estimate_uniform"]


def estimate_uniform(fit: Any, score_item: Callable[[int], Any], budget: int = 100, confidence: float = 0.95,
                     seed: int | None = 0, ci: str = "wilson", target_width: float | None = None) -> Estimate:
    """Plain sample mean of ``budget`` uniformly drawn items; ``ci`` in "wilson", "exact", "anytime"."""
    N = fit.n_items if hasattr(fit, "n_items") else int(fit)
    items = fit.items if hasattr(fit, "items") else tuple(str(i) for i in range(N))
    check_common(budget, confidence, seed, N)
    if ci not in ("wilson", "exact", "anytime"):
        raise ConfigError(f"`ci` must be 'wilson', 'exact' or 'anytime' for the uniform baseline, got {ci!r}")
    if target_width is not None and ci != "anytime":
        raise ConfigError("`target_width` needs ci='anytime' (the only interval valid under early stopping)")
    if ci != "anytime" and budget > N:
        raise ConfigError(f"`budget` {budget} exceeds the {N} items of the bank (draws are without replacement)")
    rng = np.random.default_rng(seed)
    ask = Asker(score_item, items)
    order = rng.choice(N, size=budget, replace=ci == "anytime")
    cs = BettingCS(1 - confidence) if ci == "anytime" else None
    zs: list[float] = []
    stopped = False
    for j in order:
        z = ask(int(j))
        zs.append(z)
        if cs is not None:
            cs.update(z, 0.0, 1.0)
            if target_width is not None and cs.interval[1] - cs.interval[0] <= target_width:
                stopped = True
                break
    n = len(zs)
    arr = np.asarray(zs)
    mean = float(arr.mean())
    if cs is not None:
        interval = cs.interval
    elif ci == "exact":
        if not np.all((arr == 0) | (arr == 1)):
            raise ConfigError("ci='exact' (Clopper-Pearson) needs 0/1 scores; use ci='wilson' for fractional ones")
        interval = clopper_pearson(int(arr.sum()), n, confidence)
    else:
        interval = wilson(float(arr.sum()), n, confidence)
    se = float(arr.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return Estimate(mean=mean, ci=interval, n=n, n_calls=ask.n_calls, items=[items[int(j)] for j in order[:n]],
                    effective_sample_size=float(n), method="uniform", ci_kind=ci, confidence=confidence,
                    seed=seed, budget=budget, std_error=se, stopped_early=stopped)


def anchor_items(fit: Any, k: int, seed: int = 0, iters: int = 30) -> np.ndarray:
    """k anchor item indices: the item nearest each k-means centre of the item factors (with bias)."""
    X = fit.V_aug
    N = X.shape[0]
    if not (1 <= k <= N):
        raise ConfigError(f"the number of anchors must be in [1, {N}], got {k}")
    rng = np.random.default_rng(seed)
    C = X[rng.choice(N, size=k, replace=False)]
    for _ in range(iters):
        lab = np.argmin(((X[:, None, :] - C[None]) ** 2).sum(-1), axis=1)
        for c in range(k):
            if np.any(lab == c):
                C[c] = X[lab == c].mean(0)
    d = ((X[:, None, :] - C[None]) ** 2).sum(-1)
    chosen: list[int] = []
    for c in range(k):  # nearest free item to each centre
        for j in np.argsort(d[:, c]):
            if int(j) not in chosen:
                chosen.append(int(j))
                break
    return np.array(chosen)


def _map_factor(fit: Any, idx: np.ndarray, z: np.ndarray) -> np.ndarray:
    mu, S = fit.prior()
    K = fit.rank
    P = np.linalg.inv(S[:K, :K] + 1e-6 * np.eye(K))
    V, b = fit.V[idx], fit.b[idx]

    def f(u: np.ndarray) -> tuple[float, np.ndarray]:
        L = V @ u + b
        p = expit(L)
        d = u - mu[:K]
        loss = float(np.sum(np.logaddexp(0, L) - z * L) + 0.5 * d @ P @ d)
        return loss, V.T @ (p - z) + P @ d

    return minimize(f, mu[:K].copy(), jac=True, method="L-BFGS-B").x


def estimate_irt(fit: Any, score_item: Callable[[int], Any], budget: int = 100, confidence: float = 0.95,
                 seed: int | None = 0, anchors: np.ndarray | None = None) -> Estimate:
    """tinyBenchmarks-style p-IRT estimate from ``budget`` fixed anchor items (chosen by ``anchor_items``)."""
    check_common(budget, confidence, seed, fit.n_items)
    N = fit.n_items
    if budget > N:
        raise ConfigError(f"`budget` {budget} exceeds the {N} items of the bank")
    idx = anchor_items(fit, budget) if anchors is None else np.asarray(anchors, dtype=int)
    ask = Asker(score_item, fit.items)
    z = np.array([ask(int(j)) for j in idx])
    u = _map_factor(fit, idx, z)
    p = expit(fit.V @ u + fit.b)
    rest = np.ones(N, dtype=bool)
    rest[idx] = False
    mean = float((z.sum() + p[rest].sum()) / N)
    se = float(math.sqrt(np.sum(p[rest] * (1 - p[rest]))) / N)
    return Estimate(mean=mean, ci=normal_interval(mean, se, confidence), n=len(idx), n_calls=ask.n_calls,
                    items=[fit.items[int(j)] for j in idx], effective_sample_size=float("nan"), method="irt",
                    ci_kind="model", confidence=confidence, seed=seed, budget=budget, std_error=se)
