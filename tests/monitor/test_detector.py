"""The lifetime regression e-process: agreement with the engine, e-BH, and seeded simulations of the lifetime
false-alarm rate and of the detection delay (statistics.md §6.4 style tolerances: rate <= alpha + 3 SE)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesbench.errors import ConfigError
from bayesbench.monitor import RegressionDetector, baseline_noise_margin, e_bh
from bayesbench.stats import EngineConfig, PairedSequentialTest
from bayesbench.stats._sequential import DEFAULT_LAMBDAS

ALPHA = 0.05


def test_one_run_is_the_engines_margin_side_mixed_with_the_unstarted_weight():
    # the engine's side A ("Δ <= 0") on a = baseline, b = new + δ over the range (0, 1 + δ) bets
    # 1 + λ (D − δ)/(1 + δ): the detector with the grid divided by (1 + δ) bets the same
    rng = np.random.default_rng(3)
    delta = 0.05
    base = rng.integers(0, 2, 80).astype(float)
    new = np.where(rng.random(80) < 0.3, 0.0, base)
    det = RegressionDetector(alpha=ALPHA, margin=delta, lambdas=[x / (1 + delta) for x in DEFAULT_LAMBDAS])
    state = det.update(base - new)
    eng = PairedSequentialTest(EngineConfig(alpha=2 * ALPHA, score_range=(0.0, 1.0 + delta)))
    eng.update(base, new + delta)
    engine_e = math.exp(eng.current_log_e()["A"])
    # one run: component s = 1 has weight 1/2, the components not started yet the other 1/2
    assert math.exp(state.log_e) == pytest.approx(0.5 * engine_e + 0.5, rel=1e-9)
    assert state.run_log_e == pytest.approx(eng.current_log_e()["A"], rel=1e-9)
    assert state.threshold == pytest.approx(math.log(1 / ALPHA))


def test_running_max_alarm_is_sticky_and_inputs_are_checked():
    det = RegressionDetector(alpha=ALPHA, margin=0.0)
    assert det.update(np.ones(40)).alarm  # every item worse: evidence at once
    assert det.update(-np.ones(40)).alarm  # later good runs do not take an alarm back
    with pytest.raises(ConfigError, match=r"in \[-1, 1\]"):
        det.update([2.0])
    with pytest.raises(ConfigError, match="`margin` must be in"):
        RegressionDetector(margin=1.5)
    with pytest.raises(ConfigError, match="`alpha` must be in"):
        RegressionDetector(alpha=0.7)


def test_start_weights_sum_to_one():
    w = sum(math.exp(RegressionDetector.start_log_weight(s)) for s in range(1, 200_001))
    assert w + 1 / 200_001 == pytest.approx(1.0, abs=1e-12)


def test_e_bh_matches_its_definition():
    # K = 4, alpha = 0.1: e_(k) >= 4 / (0.1 k) -> 40, 20, 13.3, 10
    assert e_bh({"a": 50, "b": 21, "c": 1, "d": 0.5}, alpha=0.1) == {"a", "b"}
    assert e_bh({"a": 39, "b": 21, "c": 14, "d": 0.5}, alpha=0.1) == {"a", "b", "c"}
    assert e_bh({"a": 19, "b": 1}, alpha=0.1) == set()  # K = 2: 20, 10
    assert e_bh({"a": 39, "b": 1}, alpha=0.1) == {"a"}
    assert e_bh({}, alpha=0.1) == set()


def test_baseline_noise_margin_is_hoeffding():
    assert baseline_noise_margin(1000, 0.05) == pytest.approx(math.sqrt(math.log(40) / 2000))
    with pytest.raises(ConfigError):
        baseline_noise_margin(0, 0.05)


def _lifetime_alarm(rng, runs, k, draw, margin, alpha=ALPHA):
    det = RegressionDetector(alpha=alpha, margin=margin)
    for t in range(1, runs + 1):
        if det.update(draw(rng, t, k)).alarm:
            return t
    return None


@pytest.mark.slow
def test_lifetime_false_alarm_rate_over_200_checks_is_at_most_alpha():
    """Two nulls, 200 checks each (50 items per run), 300 seeded lifetimes each: (a) the least favourable null,
    a model worse than its baseline by exactly the margin on every run; (b) an unchanged *stochastic* model
    (per-item success probabilities) against a baseline run drawn from it, with the baseline-noise margin, so
    the guarantee is unconditional."""
    reps, runs, k, margin = 300, 200, 50, 0.02
    rng = np.random.default_rng(20261202)

    def boundary(rng, t, k):  # D in {-1, 0, 1}, mean exactly the margin
        u = rng.random(k)
        return np.where(u < 0.15 + margin / 2, 1.0, np.where(u < 0.30, -1.0, 0.0))

    alarms = sum(_lifetime_alarm(rng, runs, k, boundary, margin) is not None for _ in range(reps))
    rate = alarms / reps
    se = math.sqrt(ALPHA * (1 - ALPHA) / reps)
    assert rate <= ALPHA + 3 * se, f"boundary null: {alarms}/{reps} lifetimes alarmed"

    n_pool = 1000
    alarms_b = 0
    for _ in range(reps // 3):
        q = rng.beta(2.0, 1.0, n_pool)  # the model's per-item success probabilities
        b = (rng.random(n_pool) < q).astype(float)  # the pinned baseline run

        def unchanged(rng, t, k, q=q, b=b):
            i = rng.integers(0, n_pool, k)
            return b[i] - (rng.random(k) < q[i])

        m = margin + baseline_noise_margin(n_pool, ALPHA)
        alarms_b += _lifetime_alarm(rng, runs, k, unchanged, m, alpha=ALPHA / 2) is not None
    rate_b = alarms_b / (reps // 3)
    se_b = math.sqrt(ALPHA * (1 - ALPHA) / (reps // 3))
    assert rate_b <= ALPHA + 3 * se_b, f"unchanged stochastic model: {alarms_b}/{reps // 3} lifetimes alarmed"


@pytest.mark.slow
def test_detection_delay_of_a_five_point_drop():
    """A temperature-0 style model (each item right or wrong) whose accuracy drops 5 points on the pool at run
    tau; 50 items per run, margin 2 points. Delay = runs from the change to the alarm (inclusive)."""
    reps, k, margin, drop = 60, 50, 0.02, 0.05
    rng = np.random.default_rng(7)
    delays = {}
    for tau in (1, 100):
        out = []
        for _ in range(reps):
            def draw(rng, t, k, tau=tau):  # D = 1 on the 5 % of items that flipped from right to wrong
                return (rng.random(k) < (drop if t >= tau else 0.0)).astype(float)

            t_alarm = _lifetime_alarm(rng, tau + 300, k, draw, margin)
            assert t_alarm is not None and t_alarm >= tau  # never before the change: D = 0 there
            out.append(t_alarm - tau + 1)
        delays[tau] = float(np.median(out))
    # measured: median 12 runs after a change at run 1, 26 after 99 quiet runs (docs/monitoring.md)
    assert 5 <= delays[1] <= 15, delays
    assert delays[1] < delays[100] <= 35, delays
