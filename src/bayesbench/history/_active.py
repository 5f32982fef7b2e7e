"""Factorized active querying (Wu, Nair, Candes 2026; formulas in docs/history.md) plus a betting CS.

At draw s, with the new model's factor posterior N(u, Sigma) (augmented with the item bias):
    p_j = sigmoid(u . v_j),  h_o ~ sqrt(p_j (1 - p_j)),
    h_a ~ w_j (v_j' Sigma g)^2 / (1 + w_j v_j' Sigma v_j),  w = p(1-p),  g = mean_k w_k v_k,
    h = [(1 - a_s) h_o + a_s h_a]^{b_s},  q_s = (1 - tau) h / sum h + tau / N.
Draw I ~ q_s with replacement, ask it, and add x_s = mean(p) + (z_I - p_I) / (N q_s(I)), whose
conditional mean is exactly the bank mean theta whatever the fit; then update (u, Sigma) by one
Laplace / Sherman-Morrison step (first time an item is seen). x_s lies in bounds known before the draw,
so the betting confidence sequence covers theta at every n simultaneously.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit

from ..errors import ConfigError
from ._common import Asker, check_common
from ._intervals import BettingCS, normal_interval
from ._result import Estimate

__all__ = ["ActiveSampler", "estimate"]


class ActiveSampler:
    """The proposal and the online factor update of one new model (no I/O; :func:`estimate` drives it)."""

    def __init__(
        self, fit: Any, tau: float = 0.2, rho: float = 0.5, gamma: float = 0.5, beta0: float = 1.0, budget: int = 100
    ) -> None:
        self.V = fit.V_aug
        self.N = self.V.shape[0]
        self.u, self.S = fit.prior()
        self.tau, self.rho, self.gamma, self.beta0, self.B = tau, rho, gamma, beta0, budget
        self.seen: set[int] = set()

    def proposal(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """(p, q) for draw s (0-based): predicted scores and the sampling distribution."""
        V, S, N = self.V, self.S, self.N
        p = expit(V @ self.u)
        w = p * (1.0 - p)
        ho = np.sqrt(w)
        alpha = max(0.0, 1.0 - (s + 1) / (self.rho * self.B))
        beta = self.beta0 * min(1.0, (s + 1) / (self.gamma * self.B))
        h = ho / ho.sum() if ho.sum() > 0 else np.full(N, 1.0 / N)
        if alpha > 0:
            VS = V @ S
            g = (w @ V) / N
            ha = w * (VS @ g) ** 2 / (1.0 + w * np.einsum("ij,ij->i", VS, V))
            if ha.sum() > 0:
                h = (1 - alpha) * h + alpha * ha / ha.sum()
        h = h**beta
        q = (1.0 - self.tau) * h / h.sum() + self.tau / N
        return p, q / q.sum()

    def observe(self, j: int, z: float, p_j: float) -> None:
        """Online update after seeing score z on item j (p_j predicted before the update)."""
        if j in self.seen:
            return
        self.seen.add(j)
        v = self.V[j]
        w = p_j * (1.0 - p_j)
        Sv = self.S @ v
        self.S = self.S - w * np.outer(Sv, Sv) / (1.0 + w * v @ Sv)
        self.u = self.u + self.S @ v * (z - p_j)


def _check(ci: str, target_width: Any, tau: Any) -> None:
    if ci not in ("asymptotic", "anytime"):
        raise ConfigError(f"`ci` must be 'asymptotic' or 'anytime', got {ci!r}")
    if target_width is not None:
        if isinstance(target_width, bool) or not isinstance(target_width, (int, float)) or not (0 < target_width < 1):
            raise ConfigError(f"`target_width` must be in (0, 1) or None, got {target_width!r}")
        if ci != "anytime":
            raise ConfigError(
                "`target_width` needs ci='anytime': stopping once an interval is narrow enough is valid only "
                "for the anytime interval (the asymptotic one holds at a budget fixed in advance)"
            )
    if tau is not None and (isinstance(tau, bool) or not isinstance(tau, (int, float)) or not (0 < tau <= 1)):
        raise ConfigError(f"`tau` (the uniform mixing weight) must be in (0, 1], got {tau!r}")


def estimate(
    fit: Any,
    score_item: Callable[[int], Any],
    budget: int = 100,
    confidence: float = 0.95,
    seed: int | None = 0,
    ci: str = "asymptotic",
    target_width: float | None = None,
    *,
    tau: float | None = None,
    on_step: Callable[[Estimate], None] | None = None,
) -> Estimate:
    """Estimate a new model's bank-wide mean from at most ``budget`` draws of items.

    ``score_item(j)`` asks the new model item ``j`` (an index into ``fit.items``) and returns its score in
    [0, 1]. ``ci="anytime"`` reports the betting confidence sequence (valid at every n, so
    ``target_width`` may stop the run early); ``"asymptotic"`` the martingale-CLT interval at the end.
    The asymptotic interval is mean +- t_{n-1} * sd(x) / sqrt(n) (the martingale CLT with the Student-t
    quantile as a small-sample correction). ``on_step`` receives the running :class:`Estimate` after every
    draw (progress displays).
    ``tau`` is the uniform mixing weight of the proposal (default 0.2 for the asymptotic interval, 0.5 for
    the anytime one: the floor tau/N bounds every term by [-1/tau, 1 + 1/tau], and the betting interval's
    bets are capped by those bounds, so a higher floor gives it a narrower interval at small budgets).
    A failing ``score_item`` propagates its error with the partial estimate attached as ``.partial``.
    """
    check_common(budget, confidence, seed, fit.n_items)
    _check(ci, target_width, tau)
    if tau is None:
        tau = 0.5 if ci == "anytime" else 0.2
    rng = np.random.default_rng(seed)
    N = fit.n_items
    ask = Asker(score_item, fit.items)
    sampler = ActiveSampler(fit, tau=tau, budget=budget)
    alpha = 1.0 - confidence
    cs: BettingCS | None = None
    xs: list[float] = []
    drawn: list[int] = []
    terms: list[tuple[float, tuple[float, float]]] = []
    trace: list[tuple[int, float, float, float]] = []
    est: Estimate | None = None
    for s in range(budget):  # the trace gets every step when an interval is tracked (anytime) or shown
        p, q = sampler.proposal(s)
        base = float(p.mean())
        j = min(int(np.searchsorted(np.cumsum(q), rng.random() * q.sum(), side="right")), N - 1)  # I ~ q
        lo = base + float(np.min(-p / (N * q)))
        hi = base + float(np.max((1.0 - p) / (N * q)))
        if cs is None and ci == "anytime":  # first bet's variance guess: the fit's predicted variance of one term
            cs = BettingCS(alpha, prior_var=max(float(np.sum(p * (1 - p) / q) / N**2), 1e-4))
        try:
            z = ask(j)
        except Exception as exc:
            if xs:  # nothing computed is lost: the estimate so far rides on the error
                part = _result(xs, cs, ci, confidence, seed, budget, drawn, ask, fit)
                part.trace, part.terms = trace, terms
                exc.partial = part  # type: ignore[attr-defined]
            raise
        x = base + (z - p[j]) / (N * q[j])
        xs.append(x)
        drawn.append(j)
        if cs is not None:
            cs.update(x, lo, hi)
        terms.append((x, (lo, hi)))
        sampler.observe(j, z, float(p[j]))
        last = s == budget - 1
        cs_narrow = target_width is not None and cs is not None and cs.interval[1] - cs.interval[0] <= target_width
        if on_step is not None or last or cs_narrow:
            est = _result(xs, cs, ci, confidence, seed, budget, drawn, ask, fit)
            trace.append((est.n, est.mean, est.ci[0], est.ci[1]))
            est.trace, est.terms = trace, terms
            if on_step is not None:
                on_step(est)
            if cs_narrow:
                est.stopped_early = True
                break
        elif cs is not None:
            trace.append((len(xs), float(np.mean(xs)), *cs.interval))
    assert est is not None
    return est


def _result(
    xs: list[float],
    cs: BettingCS | None,
    ci: str,
    confidence: float,
    seed: int | None,
    budget: int,
    drawn: list[int],
    ask: Asker,
    fit: Any,
) -> Estimate:
    n = len(xs)
    arr = np.asarray(xs)
    mean = float(arr.mean())
    var = float(arr.var(ddof=1)) if n > 1 else float("nan")
    se = math.sqrt(var / n) if n > 1 else float("nan")
    shown = min(1.0, max(0.0, mean))  # for the variance ratio only; .mean stays the unbiased raw value
    if cs is not None:
        interval = cs.interval
    else:
        interval = normal_interval(mean, se, confidence, df=n - 1) if n > 1 else (0.0, 1.0)
    ess = n * shown * (1 - shown) / var if n > 1 and var > 0 else float("inf") if n > 1 else float(n)
    return Estimate(
        mean=mean,
        ci=interval,
        n=n,
        n_calls=ask.n_calls,
        items=[fit.items[j] for j in drawn],
        effective_sample_size=float(ess),
        method="active",
        ci_kind=ci,
        confidence=confidence,
        seed=seed,
        budget=budget,
        std_error=se,
    )
