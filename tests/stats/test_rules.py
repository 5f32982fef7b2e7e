"""The rule factory and the non-default rules: posterior threshold, fixed-n, paired posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from bayesbench.errors import ConfigError, ScoringError
from bayesbench.posteriors import BetaPosterior, NormalPosterior, Posterior
from bayesbench.stats import (
    EngineConfig,
    FixedNTest,
    PairedSequentialTest,
    PairTest,
    PosteriorThresholdTest,
    fixed_n_paired_test,
    make_pair_test,
    paired_prob_a_beats_b,
)


def _pair(seed: int, n: int, pa: float, pb: float) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    return (r.random(n) < pa).astype(float), (r.random(n) < pb).astype(float)


def _run(test: PairTest, a: np.ndarray, b: np.ndarray, batch: int = 8):
    d = test.decision
    for i in range(0, len(a), batch):
        d = test.update(a[i : i + batch], b[i : i + batch])
        if d.stopped:
            break
    return test.close()


def test_factory_builds_every_rule() -> None:
    cfg = EngineConfig(bank_size=100)
    kinds = {
        "anytime": PairedSequentialTest,
        "full_benchmark": PairedSequentialTest,
        "posterior": PosteriorThresholdTest,
        "fixed": FixedNTest,
    }
    for rule, cls in kinds.items():
        t = make_pair_test(rule, cfg, confidence=0.95, skip_threshold=None, min_samples=3, posterior_factory=None, seed=0)
        assert isinstance(t, cls) and isinstance(t, PairTest)
        assert t.rule == rule and t.decision.status == "CONTINUE"
    assert make_pair_test("anytime", EngineConfig(target="full_benchmark", bank_size=5)).cfg.target == "generalization"


def test_factory_errors() -> None:
    with pytest.raises(ConfigError, match="`rule` must be one of"):
        make_pair_test("bayes", EngineConfig())
    with pytest.raises(ConfigError, match="bank_size"):
        make_pair_test("full_benchmark", EngineConfig())
    with pytest.raises(ConfigError, match="`confidence`"):
        make_pair_test("posterior", EngineConfig(), confidence=1.2)
    with pytest.raises(ConfigError, match="`skip_threshold`"):
        make_pair_test("posterior", EngineConfig(), skip_threshold=0.3)
    with pytest.raises(ConfigError, match="`min_samples`"):
        make_pair_test("posterior", EngineConfig(), min_samples=0)
    with pytest.raises(ConfigError, match="`posterior_factory`"):
        make_pair_test("posterior", EngineConfig(), posterior_factory=3)  # type: ignore[arg-type]


def test_every_rule_reports_e_values_cs_and_its_name() -> None:
    a, b = _pair(1, 2000, 0.8, 0.6)
    for rule in ("anytime", "full_benchmark", "posterior", "fixed"):
        t = make_pair_test(rule, EngineConfig(bank_size=2000), min_samples=30)
        d = _run(t, a, b)
        assert d.rule == rule and d.status == "A", (rule, d)
        assert set(d.log_e) == {"A", "B"} and d.log_e["A"] > 0
        assert d.cs[0] <= d.estimate <= d.cs[1] and d.cs[0] > -1
        assert d.n == t.n


def test_posterior_rule_skip_window_stops_at_min_samples() -> None:
    t = make_pair_test("posterior", EngineConfig(), skip_threshold=0.85, min_samples=3)
    d = t.update([1, 0, 1, 1, 0, 1, 0, 1], [1, 1, 0, 1, 0, 1, 0, 0])
    assert d.status == "EQUIVALENT" and d.reason == "skip_window" and d.n == 3 and t.n == 3
    # P(p_A > p_B) after 3 problems with Jeffreys priors: A 2/3, B 2/3 -> exactly 0.5
    assert t.prob_a_beats_b == pytest.approx(0.5, abs=1e-6)


def test_posterior_rule_threshold_matches_exact_beta_probability() -> None:
    a, b = _pair(2, 500, 0.8, 0.5)
    t = make_pair_test("posterior", EngineConfig(), confidence=0.95, min_samples=10)
    d = _run(t, a, b, batch=1)
    n = d.n
    sa, sb = a[:n].sum(), b[:n].sum()
    from scipy import integrate

    p = integrate.quad(lambda x: stats.beta.pdf(x, 0.5 + sa, 0.5 + n - sa) * stats.beta.cdf(x, 0.5 + sb, 0.5 + n - sb), 0, 1)[0]
    assert d.status == "A" and d.reason == "posterior_threshold" and p >= 0.95
    sa1, sb1 = a[: n - 1].sum(), b[: n - 1].sum()
    p_prev = integrate.quad(lambda x: stats.beta.pdf(x, 0.5 + sa1, 0.5 + n - 1 - sa1) * stats.beta.cdf(x, 0.5 + sb1, 0.5 + n - 1 - sb1), 0, 1)[0]
    assert n == 10 or p_prev < 0.95


def test_posterior_rule_with_normal_and_custom_posteriors() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.beta(4, 2, 400), rng.beta(2, 2, 400)
    t = make_pair_test("posterior", EngineConfig(), min_samples=5, posterior_factory=lambda: NormalPosterior(mu_0=0.30))
    d = _run(t, x, y)
    assert d.status == "A" and isinstance(t.posterior_a, NormalPosterior)

    class Sampled(BetaPosterior):
        """Beta posterior that hides its exact P(A > B), forcing the seeded Monte-Carlo path."""

        prob_greater = Posterior.prob_greater

    runs = []
    for _ in range(2):
        t2 = make_pair_test("posterior", EngineConfig(), min_samples=5, posterior_factory=Sampled, seed=7)
        a, b = _pair(4, 300, 0.7, 0.6)
        runs.append(_run(t2, a, b))
    assert runs[0].n == runs[1].n and runs[0].status == runs[1].status  # seeded: reproducible


def test_fixed_rule_never_stops_and_runs_exact_mcnemar() -> None:
    a, b = _pair(5, 600, 0.72, 0.65)
    t = make_pair_test("fixed", EngineConfig(alpha=0.05))
    for i in range(0, 600, 50):
        assert t.update(a[i : i + 50], b[i : i + 50]).status == "CONTINUE"
    d = t.close()
    n10, n01 = int(np.sum(a > b)), int(np.sum(a < b))
    p = stats.binomtest(n10, n10 + n01, 0.5).pvalue
    expected = ("A" if n10 > n01 else "B") if p < 0.05 else "UNDECIDED"
    assert d.status == expected and d.n == 600
    assert t.result is not None and t.result.p_value == pytest.approx(p)
    assert d.cs == t.result.ci
    with pytest.raises(ConfigError, match="closed"):
        t.update([1], [0])


def test_fixed_n_paired_t_test_matches_scipy() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.beta(3, 2, 80), rng.beta(2.6, 2, 80)
    r = fixed_n_paired_test(x, y, 0.1)
    ref = stats.ttest_rel(x, y)
    assert r.method == "paired t-test" and r.p_value == pytest.approx(ref.pvalue)
    h = stats.t.ppf(0.95, 79) * np.std(x - y, ddof=1) / math.sqrt(80)
    assert r.ci == pytest.approx((np.mean(x - y) - h, np.mean(x - y) + h))
    assert r.status == (("A" if r.estimate > 0 else "B") if ref.pvalue < 0.1 else "UNDECIDED")
    with pytest.raises(ConfigError, match="`alpha`"):
        fixed_n_paired_test(x, y, 0.0)
    with pytest.raises(ScoringError, match="same length"):
        fixed_n_paired_test(x, y[:3])


def test_paired_prob_a_beats_b() -> None:
    a = np.array([1, 1, 0, 1, 0, 1, 1, 0], float)
    b = np.array([0, 1, 0, 0, 1, 0, 1, 0], float)
    n10, n01 = 3, 1
    ref = 1 - stats.beta.cdf(0.5, 0.5 + n10, 0.5 + n01)
    assert paired_prob_a_beats_b(a, b) == pytest.approx(ref)
    assert paired_prob_a_beats_b(b, a) == pytest.approx(1 - ref)
    z = np.array([0.1, 0.3, -0.05, 0.2])
    x, y = 0.5 + z / 2, 0.5 - z / 2
    n, zb = 4, z.mean()
    kn, an = 5.0, 3.0
    bn = 0.05 + 0.5 * ((z - zb) ** 2).sum() + n * zb**2 / (2 * kn)
    ref_c = stats.t.sf(0, 2 * an, loc=n * zb / kn, scale=math.sqrt(bn / (an * kn)))
    assert paired_prob_a_beats_b(x, y) == pytest.approx(ref_c)
    assert special.betainc(1, 1, 0.5) == pytest.approx(0.5)
    with pytest.raises(ScoringError):
        paired_prob_a_beats_b([0.1, float("nan")], [0.2, 0.3])


def test_public_names() -> None:
    import bayesbench.stats as s

    assert sorted(s.__all__) == sorted(
        [
            "BetaPosterior", "Decision", "DirichletPosterior", "EngineConfig", "FixedNTest", "FixedTestResult",
            "GammaPosterior", "NormalPosterior", "PairTest", "PairedSequentialTest", "Posterior",
            "PosteriorThresholdTest", "RankingRace", "Status", "fixed_n_paired_test", "make_pair_test",
            "paired_prob_a_beats_b",
            # the toolkit (tests/stats/test_toolkit*.py, tests/plan)
            "AdjustedPValues", "BootstrapResult", "ClusteredMean", "EffectSize", "Interval", "PairedTestResult",
            "PowerResult", "RepeatedRunsSummary", "adjust_p_values", "bootstrap_interval", "clopper_pearson_interval",
            "cluster_bootstrap", "clustered_mean", "cohens_d", "cohens_h", "interpret_effect", "mcnemar_detectable_gap",
            "mcnemar_power", "mcnemar_sample_size", "mcnemar_test", "paired_cells", "paired_t_test", "permutation_test",
            "repeated_runs", "t_interval", "two_proportion_power", "two_proportion_sample_size", "wilcoxon_test",
            "wilson_interval",
        ]
    )
    for name in s.__all__:
        assert getattr(s, name) is not None
