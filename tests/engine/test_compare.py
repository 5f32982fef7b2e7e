"""Two-model comparisons through the public API: the loop, ordering, concurrency, errors."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time

import numpy as np
import pytest

from bayesbench import (
    BayesianBenchmark,
    BetaPosterior,
    ConfigError,
    DatasetError,
    ModelError,
    NormalPosterior,
    RetryPolicy,
    ScoringError,
    benchmark,
    suite,
)
from bayesbench.engine import shuffled_order

from .conftest import exact, make_problems, table_model

FAST_RETRY = RetryPolicy(max_attempts=2, backoff_base=0.001, backoff_max=0.001)


def test_benchmark_decorator_finds_the_better_model_early(problems_400):
    always = table_model(np.ones(400, bool))
    never = table_model(np.zeros(400, bool))

    @benchmark(model_a=always, model_b=never, dataset=problems_400, confidence=0.95, seed=1)
    def exact_match(problem, response):
        return response.strip() == problem["answer"]

    result = exact_match.run()
    assert result.winner == "model_a"
    # every pair is discordant: the grid mixture needs 16 straight wins, rounded up to a batch of 8
    assert result.problems_tested == 16
    assert result.efficiency == pytest.approx(1 - 16 / 400)
    # the look-ahead batch was dispatched too: at most one batch of overshoot
    assert 2 * 16 <= result.model_calls <= 2 * (16 + 8)
    lo, hi = result.ci
    assert 0 < lo <= result.difference <= hi <= 1
    assert result.p_a_beats_b > 0.99
    assert result.stop_reason == "e_value"
    assert result.e_values["A"] >= 1 / 0.05 * 2 - 1e-9
    assert exact_match({"answer": "x"}, " x ") is True  # still usable as the score function


def test_equal_models_rarely_get_a_winner(problems_400):
    # 30 seeded runs between two models with the same accuracy: false winners must be rare
    rng = np.random.default_rng(3)
    winners = 0
    for seed in range(30):
        a = rng.random(400) < 0.7
        b = rng.random(400) < 0.7
        r = BayesianBenchmark(seed=seed).compare(table_model(a), table_model(b), exact, problems_400)
        winners += r.winner is not None
        assert r.winner is not None or r.status == "UNDECIDED"
    assert winners <= 4  # expected ~0.75 at alpha=0.05; 4 is > 3 SE above it


def test_result_fields_and_json(problems_400, correlated_tables):
    a, b = correlated_tables
    result = BayesianBenchmark(seed=11).compare(table_model(a), table_model(b), exact, problems_400,
                                                name="t", model_a_name="big", model_b_name="small")
    assert result.winner == "model_a" and result.winner_name == "big"
    assert result.total_problems == 400
    assert 0 < result.problems_tested < 400
    assert result.seed == 11 and result.rule == "anytime" and result.confidence == 0.95
    assert isinstance(result.posterior_a, BetaPosterior)
    assert result.posterior_a.mean > result.posterior_b.mean
    assert not result.skipped
    d = result.to_dict()
    json.dumps(d)
    assert d["winner_name"] == "big" and d["problems_tested"] == result.problems_tested
    order = shuffled_order(400, 11)
    assert d["problem_order"] == order[: result.problems_tested]
    assert "big" in result.summary() and "seed=11" in result.summary()


def test_scores_are_fed_in_dispatch_order_not_completion_order(problems_400, correlated_tables):
    """A model that is slow exactly when it is wrong must not change the outcome (statistics.md §7.2)."""
    a, b = correlated_tables

    async def slow_when_wrong(problem):
        await asyncio.sleep(random.random() * 0.004 if not a[problem["id"]] else 0)
        return "right" if a[problem["id"]] else "wrong"

    fast_bench = BayesianBenchmark(seed=5, max_concurrency=1, batch_size=4)
    conc_bench = BayesianBenchmark(seed=5, max_concurrency=16, batch_size=4)
    r1 = fast_bench.compare(table_model(a), table_model(b), exact, problems_400)
    r2 = conc_bench.compare(slow_when_wrong, table_model(b), exact, problems_400)
    assert (r1.winner, r1.problems_tested, r1.difference, r1.ci) == (r2.winner, r2.problems_tested, r2.difference,
                                                                     r2.ci)


def test_async_models_run_concurrently_and_sync_models_do_not_block_the_loop():
    """Events, not clocks: async calls overlap (more than four in flight), and sync calls run off the
    loop: each waits, on its thread, for a flag that only a coroutine on the loop sets, and several
    are blocked at once (sync calls overlap too)."""
    problems = make_problems(64)
    in_flight = 0
    peak = 0
    sync_lock = threading.Lock()
    sync_in_flight = sync_peak = 0
    loop_ran = threading.Event()

    async def async_model(problem):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return "right"

    def sync_model(problem):
        nonlocal sync_in_flight, sync_peak
        with sync_lock:
            sync_in_flight += 1
            sync_peak = max(sync_peak, sync_in_flight)
        try:
            if not loop_ran.wait(30):  # on the loop thread this would wait for itself
                raise RuntimeError("the event loop was blocked")
            time.sleep(0.005)  # blocking, and never instant: stays on the threads
            return "wrong"
        finally:
            with sync_lock:
                sync_in_flight -= 1

    async def main():
        bench = BayesianBenchmark(seed=0, max_concurrency=16, batch_size=8, min_samples=64, retry=RetryPolicy(max_attempts=1))

        async def heartbeat():
            while True:
                await asyncio.sleep(0.002)
                if sync_peak >= 2:
                    loop_ran.set()

        hb = asyncio.create_task(heartbeat())
        try:
            return await bench.compare_async(async_model, sync_model, exact, problems)
        finally:
            hb.cancel()

    result = asyncio.run(main())
    assert result.problems_tested == 64 and result.winner == "model_a" and result.errors == 0
    assert peak > 4, "async calls should overlap"
    assert sync_peak >= 2, "sync calls should overlap on threads"


def test_failed_calls_raise_with_partial_result_by_default():
    problems = make_problems(50)
    calls = 0

    def flaky(problem):
        nonlocal calls
        calls += 1
        if problem["id"] == shuffled_order(50, 2)[8]:
            raise RuntimeError("server exploded")
        return "right"

    bench = BayesianBenchmark(seed=2, retry=FAST_RETRY, batch_size=4)
    with pytest.raises(ModelError) as info:
        bench.compare(flaky, table_model(np.zeros(50, bool)), exact, problems)
    message = str(info.value)
    assert "server exploded" in message and "on_error='zero'" in message and "2 attempt" in message
    partial = info.value.partial_result
    assert partial.stop_reason == "error"
    # Nothing computed is lost: the two batches fed before the failure, the rest of the failing batch
    # and the look-ahead batch (16 dispatched), minus the one failed problem, in dispatch order.
    order = shuffled_order(50, 2)
    assert partial.problems_tested == 15
    assert partial.problem_order == [i for i in order[:16] if i != order[8]]
    assert partial.mean_a == 1.0 and partial.mean_b == 0.0 and partial.errors == 1


def test_on_error_zero_scores_failures_and_counts_them():
    problems = make_problems(40)

    def broken(problem):
        raise TimeoutError("too slow")

    bench = BayesianBenchmark(seed=0, on_error="zero", retry=FAST_RETRY, min_samples=40)
    result = bench.compare(broken, table_model(np.ones(40, bool)), exact, problems)
    assert result.errors == 40
    assert result.mean_a == 0.0
    assert result.winner == "model_b"


def test_task_api_suite_and_report():
    rng = np.random.default_rng(0)
    problems = make_problems(300)
    a = rng.random(300) < 0.85
    b = rng.random(300) < 0.45
    bench = BayesianBenchmark(confidence=0.95, skip_threshold=0.85, min_samples=3, posterior_factory=BetaPosterior,
                              seed=4)

    @bench.task(dataset=problems, name="gsm8k")
    def math_task(problem):
        return float(a[problem["id"]]), float(b[problem["id"]])

    @bench.task(dataset=problems[:50], posterior_factory=lambda: NormalPosterior(mu_0=0.30))
    def same(problem):
        return 0.5, 0.5

    report = bench.run()
    assert [r.name for r in report.task_results] == ["gsm8k", "same"]
    assert report.winners["gsm8k"] == "model_a"
    assert report.winners["same"] is None
    assert isinstance(report["same"].posterior_a, NormalPosterior)
    assert 0 < report.overall_efficiency < 1
    json.dumps(report.to_dict())
    df = report.to_dataframe()
    assert list(df["name"]) == ["gsm8k", "same"]
    assert "gsm8k" in report.summary()

    @suite(confidence=0.95, seed=4)
    class EvalSuite:
        dataset = problems
        task_reasoning = staticmethod(lambda p: (float(a[p["id"]]), float(b[p["id"]])))

    suite_report = EvalSuite.run()
    assert suite_report.winners == {"reasoning": "model_a"}
    assert suite_report["reasoning"].problems_tested == report["gsm8k"].problems_tested


def test_run_async_and_inside_a_running_loop(problems_400, correlated_tables):
    a, b = correlated_tables
    bench = BayesianBenchmark(seed=9)
    bench.task(dataset=problems_400, name="t")(lambda p: (float(a[p["id"]]), float(b[p["id"]])))
    report = asyncio.run(bench.run_async())

    async def notebook_cell():
        return bench.run()  # sync call while a loop is running, as in Jupyter

    assert asyncio.run(notebook_cell()).to_dict()["task_results"]["t"]["problems_tested"] == \
        report["t"].problems_tested


@pytest.mark.parametrize("rule", ["anytime", "full_benchmark", "posterior", "fixed"])
def test_every_rule_runs_and_reports(rule, problems_400, correlated_tables):
    a, b = correlated_tables
    result = BayesianBenchmark(seed=3, rule=rule).compare(table_model(a), table_model(b), exact, problems_400)
    assert result.rule == rule
    if rule == "posterior":
        # the original rule: its skip window ends most runs within the first batch, often with no winner
        assert result.status in ("A", "EQUIVALENT") and result.problems_tested <= 16
        return
    assert result.winner == "model_a"
    if rule == "fixed":
        assert result.problems_tested == 400
    else:
        assert result.problems_tested < 400
    lo, hi = result.ci
    assert lo <= result.difference <= hi


def test_budget_ends_undecided(problems_400):
    rng = np.random.default_rng(1)
    a, b = rng.random(400) < 0.6, rng.random(400) < 0.6
    result = BayesianBenchmark(seed=0, max_problems=40).compare(table_model(a), table_model(b), exact, problems_400)
    assert result.problems_tested == 40
    assert result.status == "UNDECIDED" and result.winner is None
    assert result.stop_reason == "budget_exhausted"


def test_equivalence_stop_marks_task_skipped():
    problems = make_problems(4000)
    same = table_model(np.random.default_rng(0).random(4000) < 0.7)
    result = BayesianBenchmark(seed=0, equivalence_margin=0.05, skip_threshold=0.85).compare(
        same, same, exact, problems)
    assert result.status == "EQUIVALENT" and result.skipped and result.winner is None
    assert result.stop_reason == "equivalence" and result.problems_tested < 4000
    assert -0.05 < result.difference < 0.05
    # skip_threshold is the level of the equivalence stop: a stricter one needs more problems
    strict = BayesianBenchmark(seed=0, equivalence_margin=0.05, skip_threshold=0.99).compare(
        same, same, exact, problems)
    assert strict.status == "EQUIVALENT" and strict.problems_tested > result.problems_tested
    assert -0.05 < strict.ci[0] <= strict.ci[1] < 0.05


def test_continuous_scores_with_score_range():
    problems = make_problems(300)
    rng = np.random.default_rng(2)
    qa = rng.uniform(5, 10, 300)
    qb = rng.uniform(0, 6, 300)
    result = BayesianBenchmark(seed=1, score_range=(0, 10), posterior_factory=lambda: NormalPosterior(mu_0=5)).compare(
        lambda p: qa[p["id"]], lambda p: qb[p["id"]], lambda p, r: r, problems)
    assert result.winner == "model_a"
    assert 0 < result.ci[0] < result.difference < result.ci[1] < 10


# ---- bad input: each gets a clear error ---------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"confidence": 1.2}, "`confidence` must be in (0.5, 1), got 1.2"),
        ({"confidence": 0.5}, "`confidence` must be in (0.5, 1), got 0.5"),
        ({"min_samples": 0}, "`min_samples` must be an integer >= 1, got 0"),
        ({"rule": "bayes"}, "`rule` must be one of"),
        ({"on_error": "ignore"}, "`on_error` must be one of 'raise', 'zero', got 'ignore'"),
        ({"batch_size": 2.5}, "`batch_size` must be an integer >= 1, got 2.5"),
        ({"score_range": (1, 0)}, "`score_range` must be a pair (low, high) with low < high"),
        ({"posterior_factory": 3}, "`posterior_factory` must be a callable"),
    ],
)
def test_bad_configuration(kwargs, message):
    with pytest.raises(ConfigError) as info:
        BayesianBenchmark(**kwargs)
    assert message in str(info.value)


def test_bad_datasets_and_scores():
    bench = BayesianBenchmark(seed=0)
    ok = lambda p: "right"  # noqa: E731
    with pytest.raises(DatasetError, match="empty"):
        bench.compare(ok, ok, exact, [])
    with pytest.raises(DatasetError, match="single dict"):
        bench.compare(ok, ok, exact, {"question": "q"})
    for bad, pattern in [(float("nan"), "finite"), (1.5, r"\[0, 1\]"), ("yes", "not a number")]:
        with pytest.raises(ScoringError, match=pattern) as info:
            bench.compare(ok, ok, lambda p, r, bad=bad: bad, make_problems(10))
        assert "problem #" in str(info.value)
        assert info.value.partial_result.problems_tested == 0


def test_task_returning_the_wrong_shape():
    bench = BayesianBenchmark(seed=0)
    bench.task(dataset=make_problems(10), name="oops")(lambda p: 1.0)
    with pytest.raises(ScoringError, match=r"must return a pair \(score_a, score_b\)"):
        bench.run()


def test_no_tasks_and_duplicate_tasks():
    bench = BayesianBenchmark()
    with pytest.raises(ConfigError, match="no tasks registered"):
        bench.run()
    bench.task(dataset=[1], name="x")(lambda p: (1, 0))
    with pytest.raises(ConfigError, match="already registered"):
        bench.task(dataset=[1], name="x")(lambda p: (1, 0))


def test_a_bug_in_the_score_function_surfaces_as_itself_with_the_partial_result():
    def buggy(problem, response):
        if problem["id"] == shuffled_order(40, 0)[12]:
            return problem["missing-key"]
        return 1.0

    with pytest.raises(KeyError) as info:
        BayesianBenchmark(seed=0, batch_size=4).compare(lambda p: "x", lambda p: "y", buggy, make_problems(40))
    # batches of 4 (positions 0-11 fed); the failing batch 12-15 and the look-ahead 16-19 were in
    # flight: every problem scored in them is kept, the one that raised is not
    assert info.value.partial_result.problems_tested == 19
    assert shuffled_order(40, 0)[12] not in info.value.partial_result.problem_order
