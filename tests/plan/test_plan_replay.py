"""The planner's predictions against independent replayed runs: the public one-liners compare() / rank() on
simulated 0/1 scores drawn with other seeds than the planner's (Monte-Carlo errors stated)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bayesbench
from bayesbench.stats import paired_cells


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYESBENCH_CACHE_DIR", str(tmp_path / "cache"))


def replay_pair(gap: float, base: float, bank: int, reps: int, seed: int) -> np.ndarray:
    """Problems used by ``reps`` real replays (bayesbench.compare on simulated 0/1 scores, independent errors)."""
    rng = np.random.default_rng(seed)
    pa = base + gap
    p10, p01 = paired_cells(pa, base)
    p11 = base - p01
    used = []
    for i in range(reps):
        u = rng.random(bank)
        a = (u < p10 + p11).astype(float)
        b = ((u >= p10) & (u < p10 + p11 + p01)).astype(float)
        res = bayesbench.compare(a.tolist(), b.tolist(), batch_size=8, min_samples=3, seed=10_000 + i)
        used.append(res.problems_tested)
    return np.array(used, dtype=float)


def check_against_replays(gap: float, bank: int, sims: int, reps: int) -> None:
    """The planner (seed 0) against replays through the public compare() (other seeds). The Monte-Carlo SE of
    the relative difference is asserted < 4 %, so the 10 % check is at 2.5 SEs or more."""
    predicted = bayesbench.plan(gap=gap, base_rate=0.6, n_problems=bank, batch_size=8, min_samples=3, n_sims=sims)
    used = replay_pair(gap, 0.6, bank, reps, seed=777)
    mean = used.mean()
    se_rel = math.hypot(predicted.sequential["mc_se_expected_problems"], used.std(ddof=1) / math.sqrt(len(used))) / mean
    assert se_rel < 0.04
    assert abs(predicted.sequential["expected_problems"] - mean) / mean < 0.10
    assert predicted.sequential["p90_problems"] == pytest.approx(np.quantile(used, 0.9), rel=0.15)


@pytest.mark.slow
def test_predicted_mean_problems_within_10_percent_of_replayed_runs() -> None:
    check_against_replays(0.1, 1500, 1000, 500)
