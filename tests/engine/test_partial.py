"""Nothing computed is lost on an error: partial results of comparisons and rankings (defect 4)."""

from __future__ import annotations

import numpy as np
import pytest

from bayesbench import BayesianBenchmark, BayesianRanker, ModelError, RetryPolicy
from bayesbench.engine import RankingResult, shuffled_order
from tests.execution._clients import OpenAIChat
from tests.fakeserver import FakeServer

from .conftest import exact, make_problems, table_model

ONE_TRY = RetryPolicy(max_attempts=1, backoff_base=0.0)


def _failing_on(problem_id: int, answer: str = "right"):
    calls: list[int] = []

    def model(problem):
        calls.append(problem["id"])
        if problem["id"] == problem_id:
            raise RuntimeError("provider exploded")
        return answer

    return model, calls


def test_ranking_error_carries_a_partial_ranking_with_every_fully_answered_problem():
    n, seed = 60, 3
    order = shuffled_order(n, seed)
    bad, calls = _failing_on(order[9])
    ranker = BayesianRanker(seed=seed, batch_size=4, min_samples=3, rule="fixed", retry=ONE_TRY)
    ranker.add_model("good", table_model(np.ones(n, bool)))
    ranker.add_model("bad", bad)
    ranker.add_model("poor", table_model(np.zeros(n, bool)))
    ranker.evaluate(exact)
    with pytest.raises(ModelError) as info:
        ranker.rank(dataset=make_problems(n))
    assert "partial_result" in str(info.value)
    partial = info.value.partial_result
    assert isinstance(partial, RankingResult) and partial.stop_reason == "error"
    # batches (0-3) (4-7) fed; (8-11) failed at position 9 while (12-15) was in flight: 16 dispatched,
    # 15 answered by all three models, all kept
    assert sorted(calls) == sorted(order[:16])
    tested = {m.name: m.problems_tested for m in partial.ranking}
    assert tested == {"good": 15, "bad": 15, "poor": 15}
    assert partial.calls_used == 3 * 16  # the failed call is counted: it was made
    assert all(v["n"] == 15 for v in partial.pairwise.values())
    assert partial.ranking[0].name in ("good", "bad") and partial.ranking[-1].name == "poor"


def test_ranking_partial_result_after_models_were_retired():
    """Adaptive racing: rows dispatched before a model retired still feed the models still racing."""
    n, seed = 600, 0
    rng = np.random.default_rng(1)
    good_table, half_table = rng.random(n) < 0.62, rng.random(n) < 0.5  # unfailing, this race settles at 160
    order = shuffled_order(n, seed)
    late = 96  # "never" (always wrong) has retired by then (after 48 problems)
    good, calls = _failing_on(order[late])
    table = table_model(good_table)
    ranker = BayesianRanker(seed=seed, batch_size=8, min_samples=8, retry=ONE_TRY)
    ranker.add_model("good", lambda p: (good(p), table(p))[1])
    ranker.add_model("half", table_model(half_table))
    ranker.add_model("never", table_model(np.zeros(n, bool)))
    ranker.evaluate(exact)
    with pytest.raises(ModelError) as info:
        ranker.rank(dataset=make_problems(n))
    partial = info.value.partial_result
    tested = {m.name: m.problems_tested for m in partial.ranking}
    # batch 96-103 failed at its first position while 104-111 was in flight: 112 dispatched
    assert sorted(calls) == sorted(order[:112])
    assert tested["good"] == tested["half"] == 111
    assert tested["never"] == 48
    assert [v["n"] for k, v in partial.pairwise.items() if set(k.split(" vs ")) == {"good", "half"}] == [111]


def test_comparison_against_the_fake_server_keeps_the_failing_batch():
    """One side fails mid-run (a non-retryable error) while the other talks to a real HTTP server:
    every pair both sides answered is kept."""
    n, seed = 40, 5
    order = shuffled_order(n, seed)
    with FakeServer() as server:
        model_a = OpenAIChat(server.openai_base_url)
        answered = []

        def score(problem, response):
            answered.append(problem["id"])
            return float(problem["id"] % 3 == 0)

        def model_b(problem):
            if problem["id"] == order[6]:
                raise PermissionError("401 unauthorized")  # a programming-class error: not retried
            return "x"

        async def ask_server(problem):
            return await model_a(problem["question"])

        bench = BayesianBenchmark(seed=seed, batch_size=4, min_samples=3, retry=ONE_TRY)
        problems = [{"id": i, "question": f"q{i}"} for i in range(n)]
        with pytest.raises(ModelError) as info:
            bench.compare(ask_server, model_b, score, problems)
        partial = info.value.partial_result
    # batches (0-3) fed; (4-7) failed at position 6 while (8-11) was in flight: 12 dispatched,
    # 11 answered by both models
    assert partial.problems_tested == 11
    assert partial.problem_order == [i for i in order[:12] if i != order[6]]
    assert len(server.api_requests()) == 12  # model_a was asked every dispatched problem exactly once
