"""RankingRace: Holm over pairwise e-processes, transitive closure, retirement, bank mode, fixed rule."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from bayesbench.errors import ConfigError, ScoringError
from bayesbench.stats import EngineConfig, RankingRace

ACC = {"m80": 0.80, "m70": 0.70, "m60": 0.60, "m50": 0.50}


def _data(seed: int, n: int, acc: dict[str, float] = ACC) -> dict[str, np.ndarray]:
    """Shared-difficulty generator: d_i ~ N(0, 1.5²), P(correct) = sigmoid(a_m − d_i)."""
    from tests.stats._simulate import abilities_for, sigmoid

    r = np.random.default_rng(seed)
    d = r.normal(0, 1.5, n)
    ab = abilities_for(list(acc.values()))
    return {m: (r.random(n) < sigmoid(a - d)).astype(float) for m, a in zip(acc, ab)}


def _race(race: RankingRace, data: dict[str, np.ndarray], batch: int = 10) -> int:
    n = len(next(iter(data.values())))
    i = 0
    while not race.done() and i < n:
        race.update({m: data[m][i : i + batch] for m in race.active_models()})
        i += batch
    race.close()
    return i


def test_rank_goal_orders_clearly_separated_models_and_retires_them() -> None:
    data = _data(0, 5000)
    race = RankingRace(list(ACC), EngineConfig(), goal="rank")
    used = _race(race, data)
    claims = race.claims()
    assert claims == {(a, b) for a, b in itertools.combinations(ACC, 2)}
    assert race.done() and race.active_models() == []
    assert used < 5000
    n = race.n()
    assert isinstance(n, dict) and max(n.values()) == used and min(n.values()) < used  # someone retired early


def test_claims_are_transitively_closed_and_consistent_with_e_values() -> None:
    data = _data(1, 4000)
    race = RankingRace(list(ACC), EngineConfig())
    for i in range(0, 600, 20):
        race.update({m: data[m][i : i + 20] for m in race.active_models()})
        claims = race.claims()
        for (a, b), (c, d) in itertools.product(claims, claims):
            if b == c and a != d:
                assert (a, d) in claims
        for a, b in claims:
            assert (b, a) not in claims
    # the strongest direct claim passed Holm's first threshold M/alpha
    m = 12
    best = max(race.pair_log_e().values())
    if race.claims():
        assert best >= math.log(m / 0.05)


def test_top1_goal_drops_models_once_beaten() -> None:
    data = _data(2, 5000)
    race = RankingRace(list(ACC), EngineConfig(), goal="top1")
    _race(race, data)
    assert race.done()
    assert all(a == "m80" for a, _ in race.claims())
    assert {b for _, b in race.claims()} == {"m70", "m60", "m50"}
    n = race.n()
    assert isinstance(n, dict) and n["m50"] <= n["m60"] <= n["m80"]


def test_per_pair_accessors_are_antisymmetric() -> None:
    data = _data(3, 300)
    race = RankingRace(list(ACC), EngineConfig())
    race.update({m: data[m][:300] for m in ACC})
    lo, hi = race.pair_cs("m80", "m50")
    assert (lo, hi) == pytest.approx((-race.pair_cs("m50", "m80")[1], -race.pair_cs("m50", "m80")[0]))
    assert race.pair_estimate("m80", "m50") == pytest.approx(-race.pair_estimate("m50", "m80"))
    assert race.pair_estimate("m80", "m50") == pytest.approx(np.mean(data["m80"] - data["m50"]))
    assert lo <= race.pair_estimate("m80", "m50") <= hi
    assert race.log_e("m80", "m50") > race.log_e("m50", "m80")
    assert race.pair_n("m80", "m50") == 300 and race.mean_score("m80") == pytest.approx(data["m80"].mean())


def test_bank_mode_ranking_ends_with_the_exact_order() -> None:
    data = _data(4, 400)
    cfg = EngineConfig(target="full_benchmark", bank_size=400)
    race = RankingRace(list(ACC), cfg)
    _race(race, data, batch=25)
    means = {m: v.mean() for m, v in data.items()}
    for a, b in race.claims():
        assert means[a] > means[b]
    # every pair is resolved: a claim either way or an exact tie
    for a, b in itertools.combinations(ACC, 2):
        tie = frozenset((a, b)) in race.equivalent_pairs()
        assert (a, b) in race.claims() or (b, a) in race.claims() or tie


def test_fixed_rule_is_holm_over_fixed_n_tests() -> None:
    data = _data(5, 150)
    race = RankingRace(list(ACC), EngineConfig(), rule="fixed")
    race.update({m: data[m] for m in ACC})
    assert not race.done() and race.active_models() == list(ACC)
    claims = race.close()
    assert race.done()
    pvals = {}
    for a, b in itertools.permutations(ACC, 2):
        n10 = int(np.sum(data[a] > data[b]))
        n01 = int(np.sum(data[a] < data[b]))
        pvals[(a, b)] = stats.binomtest(n10, n10 + n01, 0.5, alternative="greater").pvalue if n10 + n01 else 1.0
    order = sorted(pvals, key=pvals.get)
    holm = set()
    for k, key in enumerate(order):
        if pvals[key] > 0.05 / (12 - k):
            break
        holm.add(key)
    assert {c for c in claims if c in holm} == holm  # every Holm rejection is claimed (closure may add more)


def test_fdr_variant_claims_are_ordered_correctly() -> None:
    data = _data(6, 3000)
    race = RankingRace(list(ACC), EngineConfig(), fdr=True)
    _race(race, data)
    means = {m: v.mean() for m, v in data.items()}
    assert race.claims() and all(means[a] > means[b] for a, b in race.claims())


def test_equivalence_resolves_pairs_in_rank_goal() -> None:
    acc = {"x": 0.7, "y": 0.7, "z": 0.3}
    data = _data(7, 20000, acc)
    race = RankingRace(list(acc), EngineConfig(delta=0.1))
    _race(race, data, batch=50)
    assert frozenset(("x", "y")) in race.equivalent_pairs()
    assert {("x", "z"), ("y", "z")} <= race.claims()


def test_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="at least 2 distinct"):
        RankingRace(["a"], EngineConfig())
    with pytest.raises(ConfigError, match="at least 2 distinct"):
        RankingRace(["a", "a"], EngineConfig())
    with pytest.raises(ConfigError, match="`goal`"):
        RankingRace(["a", "b"], EngineConfig(), goal="best")  # type: ignore[arg-type]
    race = RankingRace(["a", "b", "c"], EngineConfig())
    with pytest.raises(ScoringError, match="missing"):
        race.update({"a": [1], "b": [0]})
    with pytest.raises(ScoringError, match="unknown"):
        race.update({"a": [1], "b": [0], "c": [1], "d": [0]})
    with pytest.raises(ScoringError, match="same problems"):
        race.update({"a": [1, 0], "b": [0], "c": [1]})
    with pytest.raises(ScoringError, match=r"`a\[0\]`"):
        race.update({"a": [float("nan")], "b": [0], "c": [1]})
    with pytest.raises(ConfigError, match="unknown model"):
        race.log_e("a", "zz")
    race.close()
    with pytest.raises(ConfigError, match="closed"):
        race.update({"a": [1], "b": [0], "c": [1]})
