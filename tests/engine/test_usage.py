"""Results report per-model calls, latency, tokens and cost, and what stopping early saved."""

from __future__ import annotations

import pytest

from bayesbench import BayesianBenchmark
from bayesbench.execution import Executor
from bayesbench.models import Completion

from .conftest import exact, make_problems


def test_usage_cost_and_savings_in_results():
    problems = make_problems(300)

    def priced(answer_right):
        def model(problem):
            right = answer_right(problem["id"])
            return Completion("right" if right else "wrong", input_tokens=100, output_tokens=10)
        return model

    executor = Executor(max_concurrency=4, prices={"model_a": (1.0, 2.0), "model_b": (10.0, 20.0)})
    bench = BayesianBenchmark(seed=0, executor=executor)
    result = bench.compare(priced(lambda i: True), priced(lambda i: i % 2 == 0), exact, problems)
    assert result.winner == "model_a" and result.problems_tested < 300
    usage = result.usage["models"]
    for name, (p_in, p_out) in {"model_a": (1.0, 2.0), "model_b": (10.0, 20.0)}.items():
        calls = usage[name]["calls"]
        assert result.problems_tested <= calls <= result.problems_tested + 8  # one look-ahead batch at most
        assert usage[name]["input_tokens"] == 100 * calls and not usage[name]["tokens_estimated"]
        assert usage[name]["cost_usd"] == pytest.approx(calls * (100 * p_in + 10 * p_out) / 1e6)
        saved = result.usage["savings"][name]
        assert saved["calls_saved"] == pytest.approx(300 - calls)
        assert saved["cost_usd_saved"] == pytest.approx((300 - calls) * (100 * p_in + 10 * p_out) / 1e6)
        assert usage[name]["latency_p50_s"] is not None and usage[name]["latency_p99_s"] >= usage[name]["latency_p50_s"]
    text = result.summary()
    assert "model_b:" in text and "cost $" in text and "saved ~" in text


def test_money_budget_ends_the_task_undecided():
    problems = make_problems(300)

    def model(problem):
        return Completion("right" if problem["id"] % 2 else "wrong", input_tokens=1000, output_tokens=0)

    executor = Executor(max_concurrency=4, prices={"model_a": (1.0, 0.0), "model_b": (1.0, 0.0)})  # $0.001 a call
    bench = BayesianBenchmark(seed=0, batch_size=8, max_cost_usd=0.02, executor=executor)
    result = bench.compare(model, model, exact, problems)
    assert result.status == "UNDECIDED" and result.stop_reason == "cost_budget_exhausted"
    spent = sum(u["cost_usd"] for u in result.usage["models"].values())
    # checked at batch ends, counting finished calls (look-ahead ones too): the budget is seen after
    # the first or second batch, and at most two batches of calls go past it
    assert 0.02 <= spent <= 0.02 + 2 * 8 * 2 * 0.001
    assert result.problems_tested in (8, 16)


def test_money_budget_for_rankings_and_bad_values():
    from bayesbench import BayesianRanker, ConfigError

    executor = Executor(prices={m: (1.0, 0.0) for m in "abc"})
    ranker = BayesianRanker(seed=0, max_cost_usd=0.01, executor=executor)
    for m in "abc":
        ranker.add_model(m, lambda p: Completion("right" if p["id"] % 3 else "wrong", input_tokens=1000))
    result = ranker.rank(dataset=make_problems(200), score_fn=exact)
    assert result.stop_reason == "cost_budget_exhausted" and result.calls_used < 3 * 200
    with pytest.raises(ConfigError, match="`max_cost_usd` must be a positive number"):
        BayesianBenchmark(max_cost_usd=0)
