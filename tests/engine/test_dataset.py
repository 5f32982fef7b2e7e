"""Bad datasets and scores (defect 7): DataFrames are their rows, unordered collections are refused,
text is never a score; numpy numbers still are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesbench import BayesianBenchmark, BayesianRanker, DatasetError, ScoringError
from bayesbench.engine._dataset import check_dataset

from .conftest import exact


def test_a_dataframe_runs_as_its_rows():
    frame = pd.DataFrame({"question": [f"q{i}" for i in range(30)], "answer": ["right"] * 30})
    seen: list[dict] = []

    def model(problem):
        seen.append(problem)
        return "right"

    result = BayesianBenchmark(seed=0, rule="fixed").compare(model, lambda p: "wrong", exact, frame)
    assert result.total_problems == result.problems_tested == 30  # not 2 (its column names)
    assert sorted(p["question"] for p in seen) == sorted(frame["question"])
    assert all(set(p) == {"question", "answer"} for p in seen)
    assert check_dataset(frame) == frame.to_dict("records")


@pytest.mark.parametrize("unordered", [
    {"q1", "q2", "q3"},
    frozenset({"q1", "q2"}),
    {"q1": 1, "q2": 2}.keys(),
    {"q1": 1, "q2": 2}.items(),
])
def test_unordered_collections_are_refused(unordered):
    with pytest.raises(DatasetError, match="no fixed order") as info:
        BayesianBenchmark(seed=0).compare(lambda p: "x", lambda p: "y", lambda p, r: 1.0, unordered)
    assert "sorted(" in str(info.value)
    ranker = BayesianRanker(seed=0).add_model("a", lambda p: "x").add_model("b", lambda p: "y")
    with pytest.raises(DatasetError, match="no fixed order"):
        ranker.rank(dataset=unordered, score_fn=lambda p, r: 1.0)


def test_ordered_collections_still_run():
    for data in ([1, 2, 3, 4], (1, 2, 3, 4), range(4), {"a": 1, "b": 2, "c": 3, "d": 4}.values(),
                 np.arange(4), (i for i in range(4))):
        r = BayesianBenchmark(seed=0, rule="fixed").compare(lambda p: 1, lambda p: 0, lambda p, r: r, data)
        assert r.problems_tested == 4, data


@pytest.mark.parametrize("text", ["1", "1.0", b"1", "true"])
def test_text_is_not_a_score(text):
    def score_as_text(problem, response):
        return text

    with pytest.raises(ScoringError) as info:
        BayesianBenchmark(seed=0).compare(lambda p: "x", lambda p: "y", score_as_text, [1, 2, 3, 4])
    message = str(info.value)
    assert "score function 'test_text_is_not_a_score.<locals>.score_as_text'" in message
    assert "not a number" in message and "(text)" in message and "problem #" in message
    assert info.value.partial_result.problems_tested == 0


def test_numpy_scores_are_numbers():
    values = [np.bool_(True), np.int64(1), np.float32(1.0), np.float64(0.0)]

    def score(problem, response):
        return values[problem % 4]

    r = BayesianBenchmark(seed=0, rule="fixed").compare(lambda p: "x", lambda p: "y", score, list(range(16)))
    assert r.problems_tested == 16 and r.mean_a == r.mean_b == pytest.approx(0.75)
