"""The public names of bayesbench.benchmarks."""

from __future__ import annotations

import bayesbench.benchmarks as benchmarks
from bayesbench.benchmarks import ScoreEstimate


def test_all_names_resolve() -> None:
    expected = {"Benchmark", "BenchmarkResult", "BigBenchHard", "BigBenchHardTask", "DROP", "GSM8K", "HeadToHead",
                "HellaSwag", "HellaSwagTask", "HumanEval", "MMLU", "MMLUTask", "PredictionRecord", "ScoreEstimate",
                "compare_models", "vendored_tasks"}
    assert set(benchmarks.__all__) == expected
    assert all(getattr(benchmarks, name) is not None for name in benchmarks.__all__)
    from bayesbench.benchmarks.compare import compare_models

    assert compare_models is benchmarks.compare_models


def test_score_estimate_intervals() -> None:
    est = ScoreEstimate.from_scores([1.0] * 7 + [0.0] * 3)
    assert est.method == "wilson" and est.n == 10 and float(est) == 0.7
    assert est.ci[0] == pytest_approx(0.3968, 1e-3) and est.ci[1] == pytest_approx(0.8922, 1e-3)
    frac = ScoreEstimate.from_scores([0.5, 1.0, 0.0, 0.8])
    assert frac.method == "normal" and 0.0 <= frac.ci[0] < frac.value < frac.ci[1] <= 1.0
    assert "n=10" in repr(est)


def pytest_approx(value: float, tol: float):
    import pytest

    return pytest.approx(value, abs=tol)
