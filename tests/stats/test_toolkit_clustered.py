"""Repeated-run statistics: variance components, clustered SE and the cluster bootstrap, checked by seeded
simulation with known variance components (Monte-Carlo tolerances stated) and against statsmodels."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bayesbench.errors import ConfigError
from bayesbench.stats import cluster_bootstrap, clustered_mean, repeated_runs

sm = pytest.importorskip("statsmodels.api")

SIGMA2_ITEM, SIGMA2_RUN, N, R = 0.04, 0.09, 100, 4
TRUE_SE = math.sqrt(SIGMA2_ITEM / N + SIGMA2_RUN / (N * R))


def _gaussian(rng: np.random.Generator, n: int = N, runs: int = R) -> np.ndarray:
    u = rng.normal(0, math.sqrt(SIGMA2_ITEM), (n, 1))
    return 0.6 + u + rng.normal(0, math.sqrt(SIGMA2_RUN), (n, runs))


@pytest.mark.parametrize("balanced", [True, False])
def test_clustered_se_matches_statsmodels_cluster_robust_ols(balanced: bool) -> None:
    rng = np.random.default_rng(0)
    sizes = np.full(40, 3) if balanced else rng.integers(1, 6, 40)
    groups = np.repeat(np.arange(40), sizes)
    y = rng.normal(0, 0.2, 40)[groups] + rng.normal(0.5, 0.3, groups.shape[0])
    got = clustered_mean(y, groups, level=0.9)
    fit = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    assert got.estimate == pytest.approx(fit.params[0]) and got.se == pytest.approx(fit.bse[0], rel=1e-10)
    ci = fit.conf_int(alpha=0.1)[0]  # statsmodels uses the normal; ours is t on G-1 df: slightly wider
    assert got.low <= ci[0] and got.high >= ci[1] and got.high - got.low < 1.05 * (ci[1] - ci[0])
    assert got.n_clusters == 40 and got.n == groups.shape[0]


def test_repeated_runs_recovers_known_variance_components_monte_carlo() -> None:
    """400 simulated (100 problems x 4 runs) tables: the moment estimators are unbiased (sigma2_item up to the
    truncation at 0, negligible here), the clustered SE matches the true SD of the mean, and the 95 % interval
    covers at 0.95 ± 3 Monte-Carlo SDs."""
    rng = np.random.default_rng(20261201)
    reps = 400
    s_item, s_run, ses, means, covered = [], [], [], [], 0
    for _ in range(reps):
        res = repeated_runs(_gaussian(rng))
        s_item.append(res.sigma2_item)
        s_run.append(res.sigma2_run)
        ses.append(res.se)
        means.append(res.mean)
        covered += res.low < 0.6 < res.high
        assert res.se == pytest.approx(math.hypot(res.se_item, res.se_run))
    # Monte-Carlo SD of each average = its sample SD / sqrt(reps); 4 of them as tolerance
    for values, truth in ((s_item, SIGMA2_ITEM), (s_run, SIGMA2_RUN)):
        assert abs(np.mean(values) - truth) < 4 * np.std(values) / math.sqrt(reps)
    assert np.std(means, ddof=1) == pytest.approx(TRUE_SE, rel=4 / math.sqrt(2 * reps))
    assert np.mean(ses) == pytest.approx(TRUE_SE, rel=0.03)
    assert abs(covered / reps - 0.95) < 3 * math.sqrt(0.95 * 0.05 / reps)


def test_binary_scores_components_are_var_p_and_mean_p_q() -> None:
    """Correct/incorrect answers: problem difficulty p_i ~ Beta(3, 2) and y_ir ~ Bernoulli(p_i); then
    sigma2_item = Var(p) = 0.04 and sigma2_run = E[p(1-p)] = 0.2 (pooled over 200 tables of 200 x 5)."""
    rng = np.random.default_rng(7)
    items, runs = [], []
    for _ in range(200):
        p = rng.beta(3, 2, (200, 1))
        res = repeated_runs((rng.random((200, 5)) < p).astype(float))
        items.append(res.sigma2_item)
        runs.append(res.sigma2_run)
    var_p = 3 * 2 / (5**2 * 6)
    e_pq = 0.6 - (var_p + 0.36)
    assert abs(np.mean(items) - var_p) < 4 * np.std(items) / math.sqrt(200)
    assert abs(np.mean(runs) - e_pq) < 4 * np.std(runs) / math.sqrt(200)


@pytest.mark.slow
def test_cluster_bootstrap_se_matches_the_true_sd_monte_carlo() -> None:
    rng = np.random.default_rng(3)
    reps = 60
    one = [cluster_bootstrap(_gaussian(rng), n_resamples=800, seed=i).se for i in range(reps)]
    both = [cluster_bootstrap(_gaussian(rng), levels="both", n_resamples=800, seed=i).se for i in range(reps)]
    # bootstrap SE of a mean of n iid cluster means is (n-1)/n-biased: tiny; tolerance 4 %
    assert np.mean(one) == pytest.approx(TRUE_SE, rel=0.04)
    # the two-level bootstrap adds about sigma2_run / (n R) of variance: conservative, as documented
    expected_both = math.sqrt(TRUE_SE**2 + SIGMA2_RUN * (R - 1) / R / (N * R))
    assert np.mean(both) == pytest.approx(expected_both, rel=0.04)
    assert np.mean(both) > np.mean(one)


def test_cluster_bootstrap_is_seeded_and_reported() -> None:
    x = _gaussian(np.random.default_rng(1), 30, 3)
    a = cluster_bootstrap(x, n_resamples=300, seed=5)
    b = cluster_bootstrap(x, n_resamples=300, seed=5)
    assert a == b and a.seed == 5 and a.n == 30 and a.n_runs == 3 and a.low < a.estimate < a.high
    drawn = cluster_bootstrap(x, n_resamples=300)
    assert cluster_bootstrap(x, n_resamples=300, seed=drawn.seed) == drawn
    json.dumps(a.to_dict())
    assert "seed 5" in a.summary()


def test_one_run_reports_no_between_run_variance() -> None:
    res = repeated_runs([[1.0], [0.0], [1.0], [1.0]])
    assert math.isnan(res.sigma2_run) and res.n_runs == 1
    assert res.se == pytest.approx(np.std([1, 0, 1, 1], ddof=1) / 2)
    json.dumps(res.to_dict())  # NaN serialises (as NaN) for Python's json
    assert "between-run" in res.summary()


@pytest.mark.parametrize("call,message", [
    (lambda: repeated_runs([[1.0, 0.0]]), "at least 2 problems"),
    (lambda: repeated_runs([[1.0, 0.0], [1.0]]), "rectangular"),
    (lambda: repeated_runs([[1.0, float("nan")], [1.0, 0.0]]), "finite"),
    (lambda: cluster_bootstrap([[1.0], [0.0]], levels="runs"), "`levels` must be"),
    (lambda: clustered_mean([1.0, 2.0, 3.0], [0, 0, 0]), "at least 2 clusters"),
    (lambda: clustered_mean([1.0, 2.0, 3.0], [0, 1]), "one cluster label per value"),
])
def test_bad_input(call, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()
