"""The planner against replayed runs, continued: a larger gap, and a ranking of three models (the rest of
test_plan_replay.py, split to keep each file under a minute)."""

from __future__ import annotations

import numpy as np
import pytest

import bayesbench

from .test_plan_replay import check_against_replays


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYESBENCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.slow
def test_larger_gap_within_10_percent_of_replayed_runs() -> None:
    check_against_replays(0.2, 600, 1000, 500)


@pytest.mark.slow
def test_ranking_plan_matches_replayed_rankings() -> None:
    acc = {"a": 0.8, "b": 0.62, "c": 0.45}
    predicted = bayesbench.plan(accuracies=acc, n_problems=1500, batch_size=8, n_sims=200)
    rng = np.random.default_rng(99)
    used, calls = [], []
    for i in range(120):
        scores = {m: (rng.random(1500) < p).astype(float).tolist() for m, p in acc.items()}
        res = bayesbench.rank(scores, batch_size=8, seed=50_000 + i)
        used.append(max(r.problems_tested for r in res.ranking))
        calls.append(res.calls_used)
    assert abs(predicted.sequential["expected_problems"] - np.mean(used)) / np.mean(used) < 0.10
    # a replay counts the calls whose scores it fed; a live run also has the look-ahead batch in flight (and
    # dispatches with the models active two batches earlier): the plan's calls are those, a little more
    assert np.mean(calls) < predicted.sequential["expected_calls"] < 1.15 * np.mean(calls)
    assert predicted.sequential["p_wrong"] <= 0.05


