"""What a result prints: every number says what it is over, and one run's counts agree with each other."""

from __future__ import annotations

import re

from bayesbench import BayesianBenchmark, benchmark


def test_a_task_runs_counts_agree_and_no_tokens_are_invented():
    bench = BayesianBenchmark(seed=1)
    bench.task(dataset=list(range(400)), name="gsm8k")(lambda p: (float(p % 10 != 0), float(p % 3 != 0)))
    result = bench.run()["gsm8k"]
    text = result.summary()
    evaluated = result.model_calls // 2
    in_flight = evaluated - result.problems_tested
    assert f"{result.problems_tested}/400 problems used" in text
    assert f"mean scores over the {result.problems_tested} problems used" in text
    assert (f"{in_flight} more were in flight at the stop" in text) == (in_flight > 0)
    assert f"task function 'gsm8k': {evaluated} problems, {result.model_calls} model calls" in text
    assert f"saved ~{400 - evaluated} problems of a full run" in text
    assert "tokens" not in text  # a task function returns numbers: no token counts to report


def test_a_winner_says_which_interval_it_prints():
    problems = [{"answer": str(i)} for i in range(300)]

    @benchmark(model_a=lambda p: p["answer"], model_b=lambda p: p["answer"] if int(p["answer"]) % 3 else "?",
               dataset=problems, seed=0)
    def exact_match(problem, response):
        return response == problem["answer"]

    result = exact_match.run()
    text = result.summary()
    assert result.winner == "model_a"
    assert re.search(r"95% anytime-valid interval \[\+0\.\d{3}, \+0\.\d{3}\] \(it stops as soon as this excludes 0\)",
                     text), text
    assert "P(A>B)=1.000 (paired posterior, reported only)" in text
    assert "tokens in/out" in text and "(estimated)" in text  # text answers: estimated tokens, said so
