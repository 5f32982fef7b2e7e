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
