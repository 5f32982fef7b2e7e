"""Fast unit tests of the paired grid-mixture e-process (statistics.md §6.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesbench.errors import ConfigError, ScoringError
from bayesbench.stats import Decision, EngineConfig, PairedSequentialTest

LAM = np.geomspace(0.005, 0.5, 12)
THR = math.log(40.0)


def _product_log_e(z: np.ndarray, payoff_sign: float = 1.0, m: float = 0.0) -> float:
    """Generic product form: log (1/G) Σ_g Π_i (1 + λ_g d (Z_i − m))."""
    ell = np.log1p(np.outer(payoff_sign * (z - m), LAM)).sum(axis=0)
    return float(np.log(np.mean(np.exp(ell - ell.max()))) + ell.max())


def _binary_pair(rng: np.random.Generator, n: int, pa: float, pb: float) -> tuple[np.ndarray, np.ndarray]:
    return (rng.random(n) < pa).astype(float), (rng.random(n) < pb).astype(float)


# ---------------------------------------------------------------- configuration
@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(alpha=0.0), "`alpha` must be in (0, 0.5)"),
        (dict(alpha=0.7), "`alpha` must be in (0, 0.5)"),
        (dict(alpha=True), "`alpha`"),
        (dict(lambdas=(0.1, 0.6)), "`lambdas`"),
        (dict(lambdas=()), "`lambdas`"),
        (dict(lambdas=(0.0, 0.1)), "`lambdas`"),
        (dict(delta=0.0), "`delta` must be in (0, 1)"),
        (dict(delta=1.5), "`delta`"),
        (dict(target="bank"), "`target` must be one of"),
        (dict(target="full_benchmark"), "`bank_size` must be set"),
        (dict(bank_size=0), "`bank_size`"),
        (dict(score_range=(1.0, 1.0)), "`score_range`"),
        (dict(score_range=(0.0, float("inf"))), "`score_range`"),
        (dict(score_range="ab"), "`score_range`"),
    ],
)
def test_bad_config_raises_config_error(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        EngineConfig(**kwargs)
    assert fragment in str(info.value)


def test_config_defaults_follow_the_design() -> None:
    cfg = EngineConfig()
    assert cfg.alpha == 0.05 and cfg.delta is None and cfg.target == "generalization"
    np.testing.assert_allclose(cfg.lambdas, LAM)
    assert cfg.log_threshold == pytest.approx(THR)


def test_engine_rejects_non_config() -> None:
    with pytest.raises(ConfigError, match="EngineConfig"):
        PairedSequentialTest({"alpha": 0.05})  # type: ignore[arg-type]


# ---------------------------------------------------------------- bad scores
@pytest.mark.parametrize(
    "a, b, fragment",
    [
        ([1.0, float("nan")], [0.0, 1.0], "`a[1]`"),
        ([1.0, 0.0], [0.0, 1.5], "`b[1]`"),
        ([1.0, -0.1], [0.0, 1.0], "`a[1]`"),
        ([1.0, "x"], [0.0, 1.0], "`a[1]`"),
        ([1.0, None], [0.0, 1.0], "`a[1]`"),
        ([1.0, 0.0], [0.0], "same length"),
        (1.0, 0.0, "sequence"),
    ],
)
def test_bad_scores_raise_scoring_error_with_index(a, b, fragment: str) -> None:
    t = PairedSequentialTest(EngineConfig())
    with pytest.raises(ScoringError) as info:
        t.update(a, b)
    assert fragment in str(info.value)
    assert t.n == 0  # nothing was consumed


def test_too_many_pairs_for_bank() -> None:
    t = PairedSequentialTest(EngineConfig(bank_size=3))
    t.update([1, 0], [0, 0])
    with pytest.raises(ConfigError, match="bank_size"):
        t.update([1, 1], [0, 0])


# ---------------------------------------------------------------- closed forms (oracle 7)
def test_binary_fast_path_equals_product_form() -> None:
    rng = np.random.default_rng(7)
    for rep in range(5):
        a, b = _binary_pair(rng, 300, 0.7, 0.6)
        t = PairedSequentialTest(EngineConfig(delta=0.05))
        run_max = {"A": 0.0, "B": 0.0, "eq_hi": 0.0, "eq_lo": 0.0}
        for i in range(0, 300, 1 + rep * 7):
            t.update(a[i : i + 1 + rep * 7], b[i : i + 1 + rep * 7])
        z = a - b
        cur = t.current_log_e()
        assert cur["A"] == pytest.approx(_product_log_e(z, 1.0), abs=1e-9)
        assert cur["B"] == pytest.approx(_product_log_e(z, -1.0), abs=1e-9)
        assert cur["eq_hi"] == pytest.approx(_product_log_e(z, -1.0, 0.05), abs=1e-9)
        assert cur["eq_lo"] == pytest.approx(_product_log_e(z, 1.0, -0.05), abs=1e-9)
        for j in range(1, 301):
            for side, (d, m) in {"A": (1, 0), "B": (-1, 0), "eq_hi": (-1, 0.05), "eq_lo": (1, -0.05)}.items():
                run_max[side] = max(run_max[side], _product_log_e(z[:j], d, m))
        for side in run_max:
            assert t.log_e_values()[side] == pytest.approx(run_max[side], abs=1e-9)
        n10 = int(np.sum((a == 1) & (b == 0)))
        n01 = int(np.sum((a == 0) & (b == 1)))
        closed = np.log(np.mean((1 + LAM) ** n10 * (1 - LAM) ** n01))
        assert cur["A"] == pytest.approx(closed, abs=1e-9)
        assert (t.n10, t.n01, t.n00 + t.n11) == (n10, n01, 300 - n10 - n01)


def test_continuous_path_equals_product_form() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.beta(2, 2, 400), rng.beta(2, 2.5, 400)
    t = PairedSequentialTest(EngineConfig())
    for i in range(0, 400, 50):
        t.update(x[i : i + 50], y[i : i + 50])
    assert not t.is_binary and t.n10 is None
    assert t.current_log_e()["A"] == pytest.approx(_product_log_e(x - y, 1.0), abs=1e-9)


def test_cs_contains_mean_shrinks_and_matches_the_test() -> None:
    """L_t > 0 exactly when the A-side running max crossed 2/alpha (item-by-item feeding)."""
    rng = np.random.default_rng(11)
    for pa, pb in [(0.75, 0.65), (0.6, 0.7), (0.7, 0.7)]:
        a, b = _binary_pair(rng, 1500, pa, pb)
        t = PairedSequentialTest(EngineConfig())
        widths = []
        for i in range(1500):
            t.update(a[i : i + 1], b[i : i + 1])
            lo, hi = t.confidence_sequence()
            assert lo <= t.estimate <= hi
            widths.append(hi - lo)
            m_a, m_b = t.log_e_values()["A"], t.log_e_values()["B"]
            if lo > 0:
                assert m_a >= THR - 1e-9
            if m_a >= THR + 2e-3:  # the CS ends move once log K passes the threshold by 1e-3
                assert lo > 0
            if hi < 0:
                assert m_b >= THR - 1e-9
            if m_b >= THR + 2e-3:
                assert hi < 0
        assert all(w2 <= w1 + 1e-12 for w1, w2 in zip(widths, widths[1:]))
        assert widths[-1] < 0.15


def test_cs_brackets_the_continuous_mean() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.beta(3, 2, 2000), rng.beta(2, 2, 2000)
    t = PairedSequentialTest(EngineConfig())
    for i in range(0, 2000, 100):
        t.update(x[i : i + 100], y[i : i + 100])
    lo, hi = t.confidence_sequence()
    assert lo <= t.estimate <= hi and hi - lo < 0.15
    assert lo > 0  # true gap 0.6 - 0.5 = 0.1


# ---------------------------------------------------------------- decisions
def test_clear_winner_is_final_and_symmetric() -> None:
    rng = np.random.default_rng(1)
    a, b = _binary_pair(rng, 3000, 0.8, 0.6)
    t_ab = PairedSequentialTest(EngineConfig())
    t_ba = PairedSequentialTest(EngineConfig())
    d_ab = d_ba = None
    for i in range(0, 3000, 10):
        d_ab = t_ab.update(a[i : i + 10], b[i : i + 10])
        d_ba = t_ba.update(b[i : i + 10], a[i : i + 10])
        if d_ab.stopped:
            break
    assert isinstance(d_ab, Decision) and d_ab.status == "A" and d_ab.reason == "e_value"
    assert d_ba is not None and d_ba.status == "B" and d_ba.n == d_ab.n
    assert d_ab.log_e["A"] == pytest.approx(d_ba.log_e["B"])
    assert d_ab.cs == pytest.approx((-d_ba.cs[1], -d_ba.cs[0]))
    # later data, even all in B's favour, never revises the verdict
    d = t_ab.update(np.zeros(200), np.ones(200))
    assert d.status == "A" and d.n == d_ab.n and t_ab.n == d_ab.n + 200 and d.cs == d_ab.cs
    assert t_ab.close().status == "A"


def test_close_turns_continue_into_undecided() -> None:
    t = PairedSequentialTest(EngineConfig())
    assert t.decision.status == "CONTINUE"
    d = t.update([1, 0, 1], [0, 1, 1])
    assert d.status == "CONTINUE" and not d.stopped
    c = t.close()
    assert c.status == "UNDECIDED" and c.reason == "undecided" and c.n == 3
    assert t.decision is c


def test_bank_exhausted_in_generalization_mode() -> None:
    t = PairedSequentialTest(EngineConfig(bank_size=4))
    d = t.update([1, 0, 1, 1], [1, 0, 0, 1])
    assert d.status == "UNDECIDED" and d.reason == "bank_exhausted"


def test_score_range_rescaling_changes_nothing() -> None:
    """Oracle 11: an affine map of the scores inside score_range gives the same decision."""
    rng = np.random.default_rng(2)
    x, y = rng.beta(3, 2, 1000), rng.beta(2, 2, 1000)
    t1 = PairedSequentialTest(EngineConfig())
    t2 = PairedSequentialTest(EngineConfig(score_range=(-5.0, 15.0)))
    for i in range(0, 1000, 25):
        d1 = t1.update(x[i : i + 25], y[i : i + 25])
        d2 = t2.update(x[i : i + 25] * 20 - 5, y[i : i + 25] * 20 - 5)
        assert d1.status == d2.status and d1.n == d2.n
        assert d1.log_e["A"] == pytest.approx(d2.log_e["A"], abs=1e-9)


def test_batched_feeding_gives_batch_end_stopping_time() -> None:
    """Oracle 4 (deterministic): tau_B == B * ceil(tau_1 / B) with the same decision."""
    rng = np.random.default_rng(4)
    for seed in range(20):
        r = np.random.default_rng(seed)
        a, b = _binary_pair(r, 4000, 0.72, 0.65)
        single = PairedSequentialTest(EngineConfig())
        for i in range(4000):
            d1 = single.update(a[i : i + 1], b[i : i + 1])
            if d1.stopped:
                break
        for bsz in (8, 32, 128):
            t = PairedSequentialTest(EngineConfig())
            for i in range(0, 4000, bsz):
                d = t.update(a[i : i + bsz], b[i : i + bsz])
                if d.stopped:
                    break
            if d1.stopped:
                assert d.status == d1.status
                assert d.n == min(4000, bsz * math.ceil(d1.n / bsz))
            else:
                assert not d.stopped
    assert rng is not None


def test_equivalence_stop() -> None:
    rng = np.random.default_rng(8)
    a, b = _binary_pair(rng, 20000, 0.7, 0.7)
    t = PairedSequentialTest(EngineConfig(delta=0.1))
    for i in range(20000):  # item by item, so the CS is checked at the same times as the e-values
        d = t.update(a[i : i + 1], b[i : i + 1])
        if d.stopped:
            break
    assert d.status == "EQUIVALENT" and d.reason == "equivalence"
    assert -0.1 < d.cs[0] and d.cs[1] < 0.1
    assert d.log_e["eq_hi"] >= THR and d.log_e["eq_lo"] >= THR


# ---------------------------------------------------------------- bank mode
def test_bank_mode_reaches_exact_verdict_at_the_end() -> None:
    z_a = np.array([1.0] * 6 + [0.0] * 4)
    z_b = np.array([0.0] * 5 + [1.0] + [0.0] * 4)  # S_N = +4
    for order_seed in range(10):
        perm = np.random.default_rng(order_seed).permutation(10)
        t = PairedSequentialTest(EngineConfig(target="full_benchmark", bank_size=10))
        for i in perm:
            d = t.update(z_a[i : i + 1], z_b[i : i + 1])
            if d.stopped:
                break
        assert d.status == "A" and d.reason in ("curtailment", "bank_exhausted", "e_value")


def test_bank_mode_exact_tie_is_equivalent_and_cs_collapses() -> None:
    a = np.array([1, 0, 1, 0, 1, 1], float)
    b = np.array([0, 1, 0, 1, 1, 1], float)
    t = PairedSequentialTest(EngineConfig(target="full_benchmark", bank_size=6))
    d = t.update(a, b)
    assert d.status == "EQUIVALENT" and d.reason == "bank_exhausted"
    assert d.cs == (0.0, 0.0)


def test_bank_mode_curtailment() -> None:
    t = PairedSequentialTest(EngineConfig(target="full_benchmark", bank_size=9))
    d = t.update([1, 1, 1, 1, 1], [0, 0, 0, 0, 0])  # S_5 = 5 > N - t = 4
    assert d.status == "A" and d.reason == "curtailment"
    assert d.cs[0] >= (5 - 4) / 9 - 1e-12


def test_bank_mode_cs_contains_bank_mean() -> None:
    rng = np.random.default_rng(9)
    for _rep in range(10):
        a, b = _binary_pair(rng, 400, 0.7, 0.66)
        delta_n = float(np.mean(a - b))
        t = PairedSequentialTest(EngineConfig(target="full_benchmark", bank_size=400))
        for i in range(0, 400, 20):
            t.update(a[i : i + 20], b[i : i + 20])
            lo, hi = t.confidence_sequence()
            assert lo - 1e-12 <= delta_n <= hi + 1e-12
        assert t.decision.status in ("A", "B", "EQUIVALENT")
        assert t.confidence_sequence() == pytest.approx((delta_n, delta_n))
