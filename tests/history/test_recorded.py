"""Recorded models in a real compare: only the new model is called."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesbench import BayesianBenchmark
from bayesbench.errors import DatasetError, ModelError
from bayesbench.execution import RetryPolicy
from bayesbench.history import ItemBank, RecordedModel, recorded_score, with_recorded


def _setup(n=400, seed=0):
    rng = np.random.default_rng(seed)
    items = [f"q{i}" for i in range(n)]
    old = (rng.random(n) < 0.45).astype(float)
    new_truth = (rng.random(n) < 0.80).astype(float)
    bank = ItemBank(np.vstack([old, 1 - old]), ["old/model", "other"], items)
    problems = [{"id": it, "answer": "yes"} for it in items]
    calls = {"new": 0}

    def new_model(problem):
        calls["new"] += 1
        return "yes" if new_truth[int(problem["id"][1:])] else "no"

    def exact_match(problem, response):
        return float(response == problem["answer"])

    return bank, problems, new_model, exact_match, calls


def test_compare_against_a_recorded_model_calls_only_the_new_one():
    bank, problems, new_model, exact_match, calls = _setup()
    old = bank.model("old/model")
    res = BayesianBenchmark(seed=3).compare(
        new_model, old, with_recorded(exact_match), problems, model_a_name="new", model_b_name="old/model"
    )
    assert res.winner == "model_a"
    # the only real calls are the new model's: the problems used plus at most the batches in flight
    assert res.problems_tested <= calls["new"] <= res.problems_tested + 2 * 8 < len(problems)
    assert old.calls == calls["new"]  # the same problems, answered from the bank at zero cost
    assert res.model_calls == calls["new"] + old.calls
    # the recorded side's mean is exactly the bank's scores on the problems used
    used = [problems[i]["id"] for i in res.problem_order[: res.problems_tested]]
    assert res.mean_b == pytest.approx(np.mean([bank.row("old/model")[bank.item_index(i)] for i in used]))


def test_recorded_model_interface():
    bank = ItemBank([[1.0, math.nan]], ["m"], ["a", "b"])
    m = bank.model("m")
    assert isinstance(m, RecordedModel)
    assert m({"id": "a"}) == {"bayesbench_recorded_score": 1.0, "model": "m", "item": "a"}
    assert recorded_score(m("a")) == 1.0 and recorded_score("text") is None
    assert m.get_model_name() == "m" and m.cache_key.startswith("bayesbench.history.recorded:m:")
    assert ItemBank([[0.0, 1.0]], ["m"], ["a", "b"]).model("m").cache_key != m.cache_key  # row changes the key
    with pytest.raises(DatasetError, match="no recorded score for item 'b'"):
        m({"id": "b"})
    with pytest.raises(DatasetError, match="needs the problem's item id in problem\\['id'\\]"):
        m({"question": "?"})
    assert (
        bank.model(
            "m",
        )
        is not None
    )
    keyed = bank.filter().model("m")
    assert keyed.item_id({"problem_id": "a"}) == "a"
    wrapped = with_recorded(lambda response: 0.25)  # one-argument score functions work too
    assert wrapped({"id": "a"}, "text") == 0.25 and wrapped({"id": "a"}, m("a")) == 1.0


def test_an_unrecorded_item_is_a_model_failure_not_a_score():
    bank = ItemBank([[1.0] * 5 + [math.nan]], ["m"], [f"q{i}" for i in range(6)])
    problems = [{"id": f"q{i}"} for i in range(6)]
    with pytest.raises(ModelError):
        BayesianBenchmark(seed=0, batch_size=6, retry=RetryPolicy(max_attempts=1)).compare(
            lambda p: "x", bank.model("m"), with_recorded(lambda p, r: 0.0), problems
        )
