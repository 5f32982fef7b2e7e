"""bayesbench.plan: predictions against independent replayed runs of the engine (other seeds, through the
public one-liners), fixed-n power against statsmodels, the disk cache, detectable_gap, the CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bayesbench
from bayesbench import ConfigError, UnknownSettingError
from bayesbench._plan import detectable_gap
from bayesbench.stats import (
    mcnemar_detectable_gap,
    mcnemar_power,
    mcnemar_sample_size,
    paired_cells,
    two_proportion_power,
    two_proportion_sample_size,
)

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYESBENCH_CACHE_DIR", str(tmp_path / "cache"))


def test_plan_numbers_are_consistent_and_priced() -> None:
    p = bayesbench.plan(0.8, 0.6, price_per_call=0.01, n_runs=2, n_sims=100, batch_size=8)
    s = p.sequential
    assert p.kind == "pair" and p.scenario["gap"] == pytest.approx(0.2)
    assert s["p50_problems"] <= s["p90_problems"] and s["p_decision"] == 1.0 and s["p_wrong"] <= 0.05
    # calls: both models, 2 runs each, look-ahead batch included
    assert 4 * s["expected_problems"] < s["expected_calls"] <= 4 * (s["expected_problems"] + 8)
    assert s["expected_cost_usd"] == pytest.approx(0.01 * s["expected_calls"])
    assert p.fixed["problems"] == mcnemar_sample_size(0.8, 0.6, alpha=0.05, power=0.8).n
    assert p.fixed["calls"] == 4 * p.fixed["problems"]
    assert p.fixed["two_proportion_problems"] == two_proportion_sample_size(0.8, 0.6).n
    text = p.summary()
    assert "90th percentile" in text and "$" in text and "exact McNemar" in text
    json.dumps(p.to_dict())
    # higher correlation between the models (lower discordance) makes the decision cheaper
    agree = bayesbench.plan(gap=0.2, base_rate=0.6, discordance=0.25, n_sims=100)
    assert agree.sequential["expected_problems"] < s["expected_problems"]
    # ... and pairing on the same problems then beats two separate samples
    assert agree.fixed["problems"] < agree.fixed["two_proportion_problems"]


def test_plan_is_cached_on_disk_keyed_by_its_inputs(tmp_path) -> None:
    first = bayesbench.plan(gap=0.2, base_rate=0.6, n_sims=60)
    assert not first.cached and Path(first.cache_path).is_file()
    assert Path(first.cache_path).parent == tmp_path / "cache" / "plan"
    again = bayesbench.plan(gap=0.2, base_rate=0.6, n_sims=60, price_per_call=1.0)  # price: not a simulation input
    assert again.cached and again.sequential["expected_problems"] == first.sequential["expected_problems"]
    other = bayesbench.plan(gap=0.2, base_rate=0.6, n_sims=60, confidence=0.99)
    assert not other.cached and other.cache_path != first.cache_path
    assert other.sequential["expected_problems"] > first.sequential["expected_problems"]
    Path(first.cache_path).write_text("{not json")  # a corrupt entry is simulated again
    assert not bayesbench.plan(gap=0.2, base_rate=0.6, n_sims=60).cached
    assert bayesbench.plan(gap=0.2, base_rate=0.6, n_sims=60, seed=1).seed == 1


statsmodels_power = pytest.importorskip("statsmodels.stats.power")
sm_proportion = pytest.importorskip("statsmodels.stats.proportion")


@pytest.mark.parametrize("pa,pb,n", [(0.7, 0.6, 300), (0.65, 0.6, 1000), (0.9, 0.5, 40)])
def test_two_proportion_power_and_size_match_statsmodels(pa: float, pb: float, n: int) -> None:
    h = sm_proportion.proportion_effectsize(pa, pb)
    ref = statsmodels_power.NormalIndPower()
    assert two_proportion_power(n, pa, pb).power == pytest.approx(ref.power(h, n, 0.05, ratio=1), rel=1e-9)
    size = two_proportion_sample_size(pa, pb, power=0.8)
    exact = ref.solve_power(h, power=0.8, alpha=0.05, ratio=1)
    assert size.effect["n_exact"] == pytest.approx(exact, rel=1e-6) and size.n == math.ceil(exact)


def test_exact_mcnemar_power_matches_a_simulation_of_statsmodels_mcnemar() -> None:
    """Exact power vs 2000 seeded runs of statsmodels' exact McNemar test (binomial MC error, 4 SDs)."""
    from statsmodels.stats.contingency_tables import mcnemar

    rng = np.random.default_rng(8)
    for pa, pb, d, n in [(0.7, 0.6, None, 200), (0.65, 0.6, 0.2, 400)]:
        p10, p01 = paired_cells(pa, pb, d)
        reps = 2000
        u = rng.random((reps, n))
        n10 = (u < p10).sum(axis=1)
        n01 = ((u >= p10) & (u < p10 + p01)).sum(axis=1)
        hits = sum(mcnemar([[0, x], [y, 0]], exact=True).pvalue < 0.05 for x, y in zip(n10, n01))
        power = mcnemar_power(n, pa, pb, discordance=d).power
        assert abs(hits / reps - power) < 4 * math.sqrt(power * (1 - power) / reps)


def test_mcnemar_sample_size_is_the_first_n_reaching_the_power() -> None:
    res = mcnemar_sample_size(0.7, 0.6, power=0.8)
    assert res.power >= 0.8 and mcnemar_power(res.n - 1, 0.7, 0.6).power < 0.8
    gap = mcnemar_detectable_gap(res.n, 0.6, power=0.8)
    assert mcnemar_power(res.n, 0.6 + gap, 0.6).power == pytest.approx(0.8, abs=1e-6)
    assert abs(gap - 0.1) < 0.01


def test_detectable_gap_after_a_run() -> None:
    rng = np.random.default_rng(2)
    a = (rng.random(400) < 0.62).astype(float).tolist()
    b = (rng.random(400) < 0.6).astype(float).tolist()
    result = bayesbench.compare(a, b, batch_size=8)
    found = bayesbench.plan.detectable_gap(result, n_sims=100)
    assert found.n == result.problems_tested and found.base_rate == pytest.approx(min(result.mean_a, result.mean_b))
    assert 0 < found.fixed_gap < found.sequential_gap < 0.5  # anytime validity costs problems at a fixed n
    # the sequential engine decides for A within n with ~80 % at that gap (bisection on 100 sims: MC ± ~0.1)
    check = bayesbench.plan(gap=found.sequential_gap, base_rate=found.base_rate, n_problems=found.n, n_sims=300,
                            seed=5)
    assert abs(check.sequential["p_correct"] - 0.8) < 0.12
    assert "detected with power 80%" in found.summary()
    assert detectable_gap(n=500, base_rate=0.6, sequential=False).sequential_gap is None


@pytest.mark.parametrize("call,error,message", [
    (lambda: bayesbench.plan(), ConfigError, "describe the pair"),
    (lambda: bayesbench.plan(0.7, 0.6, gap=0.1), ConfigError, "either accuracy_a and accuracy_b, or gap"),
    (lambda: bayesbench.plan(1.2, 0.6), ConfigError, r"`accuracy_a` must be an accuracy in \[0, 1\]"),
    (lambda: bayesbench.plan(gap=0.5, base_rate=0.6), ConfigError, "base_rate \\+ gap"),
    (lambda: bayesbench.plan(0.7, 0.6, discordance=0.05), ConfigError, "`discordance`"),
    (lambda: bayesbench.plan(0.7, 0.6, confidnce=0.9), UnknownSettingError, "did you mean `confidence`"),
    (lambda: bayesbench.plan(0.7, 0.6, timeout=3.0), ConfigError, "`timeout` does not change a plan"),
    (lambda: bayesbench.plan(accuracies={"a": 0.7}), ConfigError, "at least 2 models"),
    (lambda: bayesbench.plan(accuracies={"a": 0.7, "b": 0.6}, rule="posterior"), ConfigError, "for ranking"),
    (lambda: bayesbench.plan(0.7, 0.6, n_sims=5), ConfigError, "`n_sims` must be an integer >= 20"),
    (lambda: bayesbench.plan(0.7, 0.6, price_per_call=-1), ConfigError, "price_per_call"),
    (lambda: bayesbench.plan.detectable_gap(), ConfigError, "give a TaskResult"),
])
def test_bad_input(call, error, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_the_cli(tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "BAYESBENCH_CACHE_DIR": str(tmp_path / "c")}
    cmd = [sys.executable, "-m", "bayesbench.cli", "plan"]
    out = subprocess.run([*cmd, "--gap", "0.2", "--base-rate", "0.6", "--price-per-call", "0.002", "--n-sims", "60",
                          "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "pair" and data["sequential"]["expected_cost_usd"] > 0 and data["n_sims"] == 60
    text = subprocess.run([*cmd, "--accuracies", "a=0.8,b=0.6,c=0.4", "--n-sims", "30", "--confidence", "0.9"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert text.returncode == 0, text.stderr
    assert "ranking of a=0.800, b=0.600, c=0.400" in text.stdout and "confidence 90%" in text.stdout
    bad = subprocess.run([*cmd, "--gap", "0.2", "--base-rate", "1.5"], capture_output=True, text=True, timeout=120,
                         env=env)
    assert bad.returncode == 2 and "base_rate" in bad.stderr


def test_ranking_plans_rank_and_top1() -> None:
    acc = {"a": 0.85, "b": 0.6, "c": 0.55}
    full = bayesbench.plan(accuracies=acc, n_sims=60, n_problems=2000)
    top = bayesbench.plan(accuracies=acc, goal="top1", n_sims=60, n_problems=2000)
    assert full.kind == top.kind == "ranking" and top.settings["goal"] == "top1"
    # the best model is far ahead, b vs c is close: finding only the top model is much cheaper
    assert top.sequential["expected_calls"] < 0.7 * full.sequential["expected_calls"]
    assert top.sequential["p_correct"] >= 0.9 and top.sequential["p_wrong"] <= 0.05
    assert full.fixed["problems"] == mcnemar_sample_size(0.6, 0.55, alpha=0.05 / 3).n
    assert "ranking of a=0.850" in full.summary()
