"""The one-liners on recorded scores and posteriors."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbench import (
    BetaPosterior,
    ConfigError,
    DatasetError,
    compare,
    is_non_discriminating,
    prob_a_beats_b,
    rank,
)


def test_compare_replays_recorded_scores():
    rng = np.random.default_rng(0)
    a = (rng.random(2000) < 0.8).astype(float)
    b = (rng.random(2000) < 0.6).astype(float)
    r = compare(a, b, seed=1, names=("big", "small"))
    assert r.winner_name == "big" and r.problems_tested < 2000
    assert r.seed == 1
    assert compare(a, b, seed=1).to_dict()["problems_tested"] == r.problems_tested  # seeded: reproducible
    full = compare(a, b, seed=1, rule="fixed")
    assert full.problems_tested == 2000 and full.winner == "model_a"


def test_rank_replays_a_matrix():
    rng = np.random.default_rng(1)
    scores = {name: (rng.random(1500) < p).astype(float) for name, p in [("x", 0.9), ("y", 0.6), ("z", 0.3)]}
    r = rank(scores, seed=0)
    assert r.order == ["x", "y", "z"]
    assert {("x", "y"), ("y", "z"), ("x", "z")} <= set(r.claims)
    assert r.calls_used < r.calls_exhaustive


def test_prob_a_beats_b_paired_unpaired_and_posteriors():
    a = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1] * 5, dtype=float)
    b = np.array([0, 1, 0, 1, 0, 1, 0, 1, 0, 1] * 5, dtype=float)
    p_paired = prob_a_beats_b(a, b)
    p_unpaired = prob_a_beats_b(a, b, paired=False)
    assert p_paired > 0.99 and p_unpaired > 0.9
    pa, pb = BetaPosterior(), BetaPosterior()
    pa.update_many(a)
    pb.update_many(b)
    p_post = prob_a_beats_b(pa, pb, seed=0)
    assert p_post == pytest.approx(p_unpaired, abs=0.01)
    assert prob_a_beats_b(pb, pa, seed=0) == pytest.approx(1 - p_post, abs=0.01)
    with pytest.raises(DatasetError):
        prob_a_beats_b(a, b[:-1])


def test_is_non_discriminating():
    rng = np.random.default_rng(2)
    same = (rng.random(20000) < 0.7).astype(float)
    other = (rng.random(20000) < 0.7).astype(float)
    assert is_non_discriminating(same, other, margin=0.05)
    assert not is_non_discriminating(same, 1 - same, margin=0.05)
    pa, pb = BetaPosterior(), BetaPosterior()
    pa.update_many(same[:5000])
    pb.update_many(other[:5000])
    assert is_non_discriminating(pa, pb, margin=0.05, seed=1)
    with pytest.raises(ConfigError):
        is_non_discriminating(same, other, threshold=1.5)
