"""Ranking through the public API: racing, claims, retirement, summary format."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bayesbench import BayesianRanker, BetaPosterior, ConfigError

from .conftest import exact, make_problems, table_model

ACCURACIES = {"gpt-4o": 0.92, "gpt-4o-mini": 0.75, "small": 0.50, "tiny": 0.25}


def tables(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = rng.normal(0, 1.0, n)
    out = {}
    for name, acc in ACCURACIES.items():
        a = np.log(acc / (1 - acc))
        out[name] = rng.random(n) < 1 / (1 + np.exp(-(a - d)))
    return out


def test_ranker_api_and_summary():
    problems = make_problems(600)
    t = tables(600)
    ranker = BayesianRanker(confidence=0.95, skip_threshold=0.85, min_samples=5, posterior_factory=BetaPosterior,
                            seed=1)
    ranker.add_model("gpt-4o", table_model(t["gpt-4o"])).add_model("gpt-4o-mini", table_model(t["gpt-4o-mini"]))
    ranker.add_model("small", table_model(t["small"])).add_model("tiny", table_model(t["tiny"]))

    @ranker.evaluate
    def score(problem, response):
        return response == problem["answer"]

    result = ranker.rank(dataset=problems)
    assert result.order == ["gpt-4o", "gpt-4o-mini", "small", "tiny"]
    assert ("gpt-4o", "gpt-4o-mini") in result.claims
    assert ("gpt-4o", "tiny") in result.claims  # transitive or direct
    assert all(better != worse for better, worse in result.claims)
    assert result.calls_used < result.calls_exhaustive == 4 * 600
    assert 0 < result.efficiency < 1
    line = result.summary().splitlines()[0]
    assert re.fullmatch(
        r"Rank 1: gpt-4o  score=0\.\d{3}  95%CI=\[0\.\d{3}, [01]\.\d{3}\]  P\(>gpt-4o-mini\)=[01]\.\d{3}", line
    ), line
    top = result.ranking[0]
    assert top.ci[0] <= top.score <= top.ci[1]
    json.dumps(result.to_dict())
    df = result.to_dataframe()
    assert list(df["model"]) == result.order


def test_top1_goal_stops_sooner_than_full_ranking():
    problems = make_problems(600)
    t = tables(600, seed=2)
    used = {}
    for goal in ("rank", "top1"):
        ranker = BayesianRanker(seed=3, goal=goal)
        for name, table in t.items():
            ranker.add_model(name, table_model(table))
        result = ranker.rank(dataset=problems, score_fn=exact)
        used[goal] = result.calls_used
        assert result.ranking[0].name == "gpt-4o"
    assert used["top1"] <= used["rank"]


def test_indistinguishable_models_form_a_tie_group():
    problems = make_problems(200)
    rng = np.random.default_rng(5)
    ranker = BayesianRanker(seed=0)
    ranker.add_model("a", table_model(rng.random(200) < 0.6)).add_model("b", table_model(rng.random(200) < 0.6))
    ranker.add_model("c", table_model(np.zeros(200, bool)))
    result = ranker.rank(dataset=problems, score_fn=exact)
    assert result.order[-1] == "c"
    assert ("a", "b") not in result.claims and ("b", "a") not in result.claims
    assert any(set(g) == {"a", "b"} for g in result.tie_groups)
    assert "Not separated" in result.summary()


def test_ranker_bad_input():
    ranker = BayesianRanker()
    with pytest.raises(ConfigError, match="at least 2 models"):
        ranker.add_model("only", lambda p: "x").rank(dataset=[1], score_fn=exact)
    with pytest.raises(ConfigError, match="already added"):
        ranker.add_model("only", lambda p: "x")
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        ranker.remove_model("nope")
    ranker.add_model("second", lambda p: "x")
    with pytest.raises(ConfigError, match="no score function"):
        ranker.rank(dataset=[1])
    with pytest.raises(ConfigError, match="two-model comparisons only"):
        BayesianRanker(rule="posterior").add_model("a", str).add_model("b", str).rank(dataset=[1], score_fn=exact)


@pytest.mark.parametrize("rule", ["full_benchmark", "fixed"])
def test_other_ranking_rules(rule):
    problems = make_problems(300)
    t = tables(300, seed=4)
    ranker = BayesianRanker(seed=2, rule=rule)
    for name, table in t.items():
        ranker.add_model(name, table_model(table))
    result = ranker.rank(dataset=problems, score_fn=exact)
    assert result.rule == rule
    assert result.ranking[0].name == "gpt-4o" and ("gpt-4o", "tiny") in result.claims
    if rule == "fixed":
        assert result.calls_used == result.calls_exhaustive
    means = {m: t[m].mean() for m in t}
    for better, worse in result.claims:  # bank mode: every claim agrees with the full-bank order
        assert means[better] > means[worse]
