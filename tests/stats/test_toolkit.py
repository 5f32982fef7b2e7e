"""The statistics toolkit against reference implementations (scipy.stats, statsmodels) and textbook formulas."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import stats

from bayesbench.errors import ConfigError
from bayesbench.stats import (
    adjust_p_values,
    bootstrap_interval,
    clopper_pearson_interval,
    cohens_d,
    cohens_h,
    interpret_effect,
    mcnemar_test,
    paired_t_test,
    permutation_test,
    t_interval,
    wilcoxon_test,
    wilson_interval,
)

sm_proportion = pytest.importorskip("statsmodels.stats.proportion")
sm_contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
sm_multitest = pytest.importorskip("statsmodels.stats.multitest")


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (47, 100), (1, 400)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_binomial_intervals_match_statsmodels(k: int, n: int, level: float) -> None:
    alpha = 1 - level
    w = wilson_interval(k, n, level=level)
    ref = sm_proportion.proportion_confint(k, n, alpha=alpha, method="wilson")
    assert (w.low, w.high) == pytest.approx(ref, abs=1e-10)
    cp = clopper_pearson_interval(k, n, level=level)
    ref = sm_proportion.proportion_confint(k, n, alpha=alpha, method="beta")
    assert (cp.low, cp.high) == pytest.approx(ref, abs=1e-10)
    assert cp.estimate == w.estimate == k / n and cp.n == n and cp.level == level


def test_t_interval_matches_scipy_and_statsmodels() -> None:
    x = np.random.default_rng(1).normal(0.6, 0.2, 37)
    got = t_interval(x, level=0.9)
    ref = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (got.low, got.high) == pytest.approx(ref, rel=1e-12)
    from statsmodels.stats.weightstats import DescrStatsW

    assert (got.low, got.high) == pytest.approx(DescrStatsW(x).tconfint_mean(alpha=0.1), rel=1e-12)


def test_bca_bootstrap_is_scipys_with_the_recorded_seed_and_close_to_t() -> None:
    x = np.random.default_rng(2).normal(0.5, 0.25, 300)
    got = bootstrap_interval(x, level=0.95, n_resamples=4000, seed=11)
    ref = stats.bootstrap((x,), np.mean, n_resamples=4000, method="BCa", rng=np.random.default_rng(11))
    assert (got.low, got.high) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high), rel=1e-9)
    t = t_interval(x)
    # for a normal mean with n = 300 every good interval agrees to a few % of its width
    assert abs(got.low - t.low) < 0.05 * (t.high - t.low) and abs(got.high - t.high) < 0.05 * (t.high - t.low)
    assert got.seed == 11 and got.n_resamples == 4000 and got.method == "BCa bootstrap"
    drawn = bootstrap_interval(x, n_resamples=200)
    assert isinstance(drawn.seed, int)  # None draws a seed and records it: the call can be repeated
    again = bootstrap_interval(x, n_resamples=200, seed=drawn.seed)
    assert (again.low, again.high) == (drawn.low, drawn.high)
    median = bootstrap_interval(x, np.median, n_resamples=500, seed=3)
    assert median.low < np.median(x) < median.high


@pytest.mark.slow
def test_bca_coverage_on_skewed_data_monte_carlo() -> None:
    """Exponential data, mean 1: BCa's 90 % interval covers 0.90 ± MC error (n=40, 300 replications)."""
    rng = np.random.default_rng(5)
    reps = 300
    covered = 0
    for i in range(reps):
        iv = bootstrap_interval(rng.exponential(1.0, 40), level=0.9, n_resamples=999, seed=i)
        covered += iv.low < 1.0 < iv.high
    mc_sd = math.sqrt(0.9 * 0.1 / reps)
    assert abs(covered / reps - 0.9) < 4 * mc_sd + 0.02  # BCa is second-order accurate; small n leaves ~1-2 % gap


def _binary_pair(seed: int, n: int, pa: float, pb: float) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    return (r.random(n) < pa).astype(float), (r.random(n) < pb).astype(float)


@pytest.mark.parametrize("seed", range(5))
def test_exact_mcnemar_matches_statsmodels(seed: int) -> None:
    a, b = _binary_pair(seed, 60 + 20 * seed, 0.7, 0.55)
    got = mcnemar_test(a, b)
    table = [[np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
             [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))]]
    ref = sm_contingency.mcnemar(table, exact=True)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert got.statistic == table[0][1] and got.n == len(a)
    assert got.estimate == pytest.approx(a.mean() - b.mean())
    one = mcnemar_test(a, b, alternative="greater")
    assert one.p_value == pytest.approx(stats.binomtest(table[0][1], table[0][1] + table[1][0], 0.5,
                                                        alternative="greater").pvalue)
    assert mcnemar_test([1, 0], [1, 0]).p_value == 1.0  # no discordant pair: no evidence either way


def test_paired_t_and_wilcoxon_match_scipy() -> None:
    r = np.random.default_rng(3)
    a = r.normal(0.6, 0.1, 25)
    b = a - r.normal(0.03, 0.05, 25)
    for alt in ("two-sided", "greater", "less"):
        t = paired_t_test(a, b, alternative=alt)
        ref = stats.ttest_rel(a, b, alternative=alt)
        assert (t.statistic, t.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
        w = wilcoxon_test(a, b, alternative=alt)
        ref = stats.wilcoxon(a, b, alternative=alt)
        assert (w.statistic, w.p_value) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-12)
        assert t.alternative == w.alternative == alt
    from statsmodels.stats.weightstats import DescrStatsW

    _, sm_p, _ = DescrStatsW(a - b).ttest_mean(0.0)
    assert paired_t_test(a, b).p_value == pytest.approx(sm_p, rel=1e-10)


def test_permutation_test_is_exact_by_enumeration_for_small_n() -> None:
    a = np.array([0.9, 0.7, 0.8, 0.4, 0.6, 0.75, 0.5, 0.65])
    b = np.array([0.6, 0.65, 0.5, 0.45, 0.4, 0.7, 0.55, 0.3])
    z = a - b
    flips = np.array(list(itertools.product([1, -1], repeat=len(z))))
    null = (flips * z).mean(axis=1)
    exact = float(np.mean(np.abs(null) >= abs(z.mean()) - 1e-12))
    got = permutation_test(a, b, n_resamples=1000, seed=0)  # 2^8 = 256 <= 1000: exact enumeration
    assert got.p_value == pytest.approx(exact, rel=1e-12)
    greater = float(np.mean(null >= z.mean() - 1e-12))
    assert permutation_test(a, b, alternative="greater", seed=0).p_value == pytest.approx(greater, rel=1e-12)


def test_permutation_test_monte_carlo_is_close_to_the_exact_t_reference() -> None:
    r = np.random.default_rng(9)
    a = r.normal(0.5, 0.2, 80)
    b = a - r.normal(0.04, 0.15, 80)
    got = permutation_test(a, b, n_resamples=20000, seed=4)
    ref = stats.ttest_rel(a, b).pvalue  # the randomisation distribution of the mean is ~t for n = 80
    assert got.seed == 4 and got.n_resamples == 20000
    assert abs(got.p_value - ref) < 4 * math.sqrt(ref * (1 - ref) / 20000) + 0.01


def test_cohens_h_matches_statsmodels_and_the_conventional_bands() -> None:
    for p1, p2 in [(0.7, 0.6), (0.9, 0.5), (0.5, 0.5), (0.2, 0.8)]:
        assert cohens_h(p1, p2).value == pytest.approx(sm_proportion.proportion_effectsize(p1, p2), rel=1e-12)
    assert cohens_h(0.55, 0.5).magnitude == "negligible"
    assert cohens_h(0.65, 0.5).magnitude == "small"
    assert cohens_h(0.75, 0.5).magnitude == "medium"
    assert cohens_h(0.95, 0.5).magnitude == "large"
    assert [interpret_effect(v) for v in (0.19, -0.2, 0.49, 0.5, -0.79, 0.8)] == [
        "negligible", "small", "small", "medium", "medium", "large"]


def test_cohens_d_pooled_and_paired_formulas() -> None:
    a = np.array([5.0, 6.0, 7.0, 8.0, 9.0])
    b = np.array([3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    pooled = math.sqrt((4 * np.var(a, ddof=1) + 5 * np.var(b, ddof=1)) / 9)
    d = cohens_d(a, b)
    assert d.value == pytest.approx((a.mean() - b.mean()) / pooled) and d.magnitude == "large" and d.n == 11
    x = np.random.default_rng(0).normal(size=30)
    y = x - np.random.default_rng(1).normal(0.3, 1.0, 30)
    dz = cohens_d(x, y, paired=True)
    assert dz.value == pytest.approx(np.mean(x - y) / np.std(x - y, ddof=1))
    # d_z is the paired t statistic over sqrt(n)
    assert dz.value == pytest.approx(stats.ttest_rel(x, y).statistic / math.sqrt(30))


@pytest.mark.parametrize("method,sm_name", [("holm", "holm"), ("bh", "fdr_bh")])
def test_p_value_adjustment_matches_statsmodels(method: str, sm_name: str) -> None:
    r = np.random.default_rng(4)
    for m in (1, 2, 7, 30):
        p = np.concatenate([r.uniform(0, 0.02, m // 3), r.uniform(0, 1, m - m // 3)])
        got = adjust_p_values(p, method=method, alpha=0.05)
        reject, ref, _, _ = sm_multitest.multipletests(p, alpha=0.05, method=sm_name)
        assert got.adjusted == pytest.approx(tuple(ref), rel=1e-12)
        assert got.reject == tuple(bool(x) for x in reject)
    if method == "bh":
        assert got.adjusted == pytest.approx(tuple(stats.false_discovery_control(p)), rel=1e-12)
    named = adjust_p_values({"mmlu": 0.01, "gsm8k": 0.04, "drop": 0.3}, method=method)
    assert named.names == ("mmlu", "gsm8k", "drop") and "mmlu" in named.summary()


def test_results_carry_method_level_n_seed_and_serialise() -> None:
    results = [
        wilson_interval(7, 10), clopper_pearson_interval(7, 10), t_interval([1, 2, 3.5]),
        bootstrap_interval([0.1, 0.5, 0.9, 0.4], n_resamples=200, seed=1),
        mcnemar_test([1, 0, 1, 1], [0, 0, 1, 0]), paired_t_test([1, 2, 3.0], [0.5, 2, 2]),
        wilcoxon_test([1, 2, 3.0], [0.5, 2.5, 2]), permutation_test([1, 2, 3.0], [0.5, 2.5, 2], seed=2),
        cohens_h(0.7, 0.6), cohens_d([1, 2, 3.0], [2, 3, 5.0]), adjust_p_values([0.01, 0.2]),
    ]
    for res in results:
        d = res.to_dict()
        json.dumps(d)
        assert "method" in d and ("n" in d) and res.summary() and str(res) == res.summary()
        assert ("level" in d) or ("alternative" in d) or ("alpha" in d) or ("magnitude" in d)
    assert results[3].to_dict()["seed"] == 1 and results[7].to_dict()["seed"] == 2


@pytest.mark.parametrize("call,message", [
    (lambda: wilson_interval(11, 10), "at most n=10"),
    (lambda: wilson_interval(3, 0), "`n` must be an integer >= 1"),
    (lambda: clopper_pearson_interval(3, 10, level=1.2), r"`level` must be in \(0, 1\)"),
    (lambda: t_interval([1.0]), "at least 2"),
    (lambda: t_interval([1.0, float("nan")]), r"`values\[1\]` must be a finite number"),
    (lambda: bootstrap_interval([1, 1, 1]), "all equal"),
    (lambda: bootstrap_interval([1, 2, 3], method="studentized"), "`method` must be one of"),
    (lambda: bootstrap_interval([1, 2, 3], seed=-1), "`seed` must be a non-negative integer"),
    (lambda: mcnemar_test([1, 0.5], [1, 0]), r"`a\[1\]` must be 0 or 1"),
    (lambda: mcnemar_test([1, 0], [1, 0, 1]), "must be paired"),
    (lambda: paired_t_test([1, 2], [0, 1]), "every difference a - b is the same"),
    (lambda: paired_t_test([1, 2, 3], [0, 1, 2], alternative="bigger"), "`alternative` must be one of"),
    (lambda: wilcoxon_test([1, 2], [1, 2]), "every difference a - b is zero"),
    (lambda: permutation_test([1, 2], [0, 2], n_resamples=5), "`n_resamples` must be an integer >= 100"),
    (lambda: cohens_h(1.2, 0.5), r"`p1` must be a proportion in \[0, 1\]"),
    (lambda: cohens_d([1, 1], [1, 1]), "zero spread"),
    (lambda: adjust_p_values([0.1, 1.5]), r"must all be in \[0, 1\]"),
    (lambda: adjust_p_values([0.1], method="bonferroni"), "`method` must be one of 'holm', 'bh'"),
])
def test_bad_input_is_a_clear_config_error(call, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()
