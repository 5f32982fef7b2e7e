"""The test oracles of history.md §4 as seeded simulations (tolerance: 3 Monte-Carlo standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesbench.history import FactorFit, Placement, estimate, place
from bayesbench.history._active import ActiveSampler

from ._sim import factor_bank

ALPHA = 0.05


def se(p: float, r: int) -> float:
    return math.sqrt(p * (1 - p) / r)


@pytest.fixture(scope="module")
def small():
    """A 160-model x 40-item bank with a rank-2 truth; 140 models fitted, 20 held out."""
    bank, P = factor_bank(n_models=160, n_items=40, rank=2, seed=1)
    fit = bank.filter(models=bank.models[:140]).fit(ranks=(2,), penalties=(3.0,), seed=0)
    return bank, P, fit


def _shuffled(fit: FactorFit, seed: int) -> FactorFit:
    rng = np.random.default_rng(seed)
    perm = rng.permutation(fit.n_items)
    return FactorFit(U=fit.U, V=fit.V[perm], b=fit.b[perm], models=fit.models, items=fit.items, rank=fit.rank,
                     penalty=fit.penalty, model_means=fit.model_means)


@pytest.mark.parametrize("wrong", [False, True], ids=["good_fit", "shuffled_V"])
def test_unbiased_for_good_and_wrong_fits(small, wrong):
    bank, _, fit = small
    if wrong:
        fit = _shuffled(fit, 3)
    row = bank.scores[150]
    theta = float(row.mean())
    R = 2000
    ests = np.array([estimate(fit, lambda j, row=row: row[j], budget=4, seed=s).mean for s in range(R)])
    tol = 3 * ests.std(ddof=1) / math.sqrt(R)
    assert abs(ests.mean() - theta) <= tol, (ests.mean(), theta, tol)


def test_coverage_anytime_at_every_budget_and_asymptotic_at_the_end(small):
    bank, _, fit = small
    held = range(140, 160)
    seeds = 20
    any_miss = end_miss = 0
    for i in held:
        row = bank.scores[i]
        theta = float(row.mean())
        for s in range(seeds):
            e = estimate(fit, lambda j, row=row: row[j], budget=30, seed=s, ci="anytime")
            any_miss += any(not (lo <= theta <= hi) for _, _, lo, hi in e.trace)
            a = estimate(fit, lambda j, row=row: row[j], budget=30, seed=s, ci="asymptotic")
            end_miss += not (a.ci[0] <= theta <= a.ci[1])
    R = len(held) * seeds
    assert any_miss / R <= ALPHA + 3 * se(ALPHA, R)
    assert end_miss / R <= ALPHA + 0.01 + 3 * se(ALPHA, R)


def test_no_worse_than_uniform_when_history_is_useless():
    # a bank with no structure: every score an independent coin; the new model is another coin
    rng = np.random.default_rng(5)
    from bayesbench.history import ItemBank

    Z = (rng.random((150, 40)) < rng.uniform(0.2, 0.8, (150, 1))).astype(float)
    fit = ItemBank(Z).fit(ranks=(2,), penalties=(3.0,))
    row = (rng.random(40) < 0.6).astype(float)
    theta = row.mean()
    R, B = 600, 10
    act = np.array([estimate(fit, lambda j, row=row: row[j], budget=B, seed=s).mean for s in range(R)])
    uni = np.array([row[np.random.default_rng(10_000 + s).integers(0, 40, B)].mean() for s in range(R)])
    gain = np.mean((uni - theta) ** 2) / np.mean((act - theta) ** 2)
    assert gain >= 0.9, gain


def test_exact_with_a_perfect_predictor():
    rng = np.random.default_rng(2)
    K, N = 3, 30
    u = rng.normal(size=K)
    V, b = rng.normal(size=(N, K)), rng.normal(size=N)
    U = np.tile(u, (12, 1))  # every recorded model equal: prior covariance 0, the prediction is the truth
    fit = FactorFit(U=U, V=V, b=b, models=tuple(f"m{i}" for i in range(12)), items=tuple(f"q{j}" for j in range(N)),
                    rank=K, penalty=1.0, model_means=np.zeros(12))
    z = 1 / (1 + np.exp(-(V @ u + b)))  # continuous scores equal to the predictions
    for s in range(5):
        e = estimate(fit, lambda j: float(z[j]), budget=6, seed=s, ci="anytime")
        assert all(abs(x - z.mean()) < 1e-12 for x, _ in e.terms)
        assert e.mean == pytest.approx(z.mean(), abs=1e-12)
        assert e.ci[0] <= z.mean() <= e.ci[1]


@pytest.mark.parametrize("tau", [0.1, 0.2, 0.5])
def test_terms_and_proposal_stay_in_their_a_priori_bounds(small, tau):
    bank, _, fit = small
    N = fit.n_items
    for i in (141, 155):
        row = bank.scores[i]
        sampler = ActiveSampler(fit, tau=tau, budget=40)
        for s in range(40):
            p, q = sampler.proposal(s)
            assert q.min() >= tau / N - 1e-15 and abs(q.sum() - 1) < 1e-12
            j = s % N
            sampler.observe(j, row[j], float(p[j]))
        e = estimate(fit, lambda j, row=row: row[j], budget=40, seed=i, tau=tau, ci="anytime")
        for x, (lo, hi) in e.terms:
            assert -1 / tau - 1e-9 <= lo <= x <= hi <= 1 + 1 / tau + 1e-9


def test_placement_claims_are_simultaneous(small):
    bank, _, fit = small
    wrong = runs = claims = 0
    means = np.asarray(fit.model_means)
    for i in range(140, 160):
        row = bank.scores[i]
        theta = float(row.mean())
        for s in range(8):
            pl = place(fit, lambda j, row=row: row[j], budget=30, seed=s)
            assert isinstance(pl, Placement)
            idx = {m: k for k, m in enumerate(fit.models)}
            bad = any(means[idx[m]] >= theta for m in pl.above) or any(means[idx[m]] <= theta for m in pl.below)
            wrong += bad
            runs += 1
            claims += len(pl.above) + len(pl.below)
    assert wrong / runs <= ALPHA + 3 * se(ALPHA, runs)
    # and it says something: on average a run places the model above or below several recorded models
    assert claims / runs >= 5
