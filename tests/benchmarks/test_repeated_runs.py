"""n_runs on the suites: evaluate asks every problem n_runs times (real calls), keeps each run, reduces,
and reports the variance split; compare_models passes it to the engine or to both evaluations."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from bayesbench.benchmarks import DROP, compare_models
from bayesbench.errors import ConfigError


class Flaky:
    """Right on even-numbered asks of a prompt, wrong on odd ones (a sampling model, deterministic)."""

    def __init__(self, gold: dict[str, str]) -> None:
        self.gold = gold
        self.asks: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        with self._lock:
            k = self.asks[prompt]
            self.asks[prompt] += 1
        return self.gold[prompt] if k % 2 == 0 else "certainly not this"


def _drop(fixtures: Path) -> tuple[DROP, dict[str, str]]:
    bench = DROP(n_shots=0, data_dir=fixtures / "drop")
    gold = {p["prompt"]: p["reference"]["answers"][0] for p in bench.problems()}
    return bench, {k: v if isinstance(v, str) else ", ".join(v) for k, v in gold.items()}


@pytest.mark.parametrize("reduce,expected", [("mean", 2 / 3), ("majority", 1.0), ("pass@1", 2 / 3), ("pass@2", 1.0)])
def test_evaluate_repeats_every_problem_and_reduces(fixtures, reduce: str, expected: float) -> None:
    bench, gold = _drop(fixtures)
    model = Flaky(gold)
    result = bench.evaluate(model, n_runs=3, reduce=reduce, model_name="flaky")
    n = len(bench.problems())
    assert set(model.asks.values()) == {3} and len(model.asks) == n
    assert result.n_problems == n and result.overall_accuracy.value == pytest.approx(expected)
    assert all(r.details["run_scores"] == [1.0, 0.0, 1.0] for r in result.records)
    assert all(r.details["run_predictions"][1] == "certainly not this" for r in result.records)
    rep = result.repeats["models"]["flaky"]
    assert rep["n_runs"] == 3 and rep["sigma2_run"] == pytest.approx(1 / 3)  # var of (1, 0, 1), ddof 1
    assert rep["sigma2_item"] == 0.0 and result.settings["n_runs"] == 3
    assert "between-run variance" in result.summary()
    json.dumps(result.to_dict())


def test_compare_models_with_repeats_fixed_and_sequential(fixtures) -> None:
    bench, gold = _drop(fixtures)
    n = len(bench.problems())
    a, b = Flaky(gold), (lambda prompt: "certainly not this")
    r1, r2 = compare_models(a, b, benchmark=bench, n_runs=2)
    assert set(a.asks.values()) == {2} and r1.overall_accuracy.value == 0.5 and r2.overall_accuracy.value == 0.0
    a = Flaky(gold)
    h2h = compare_models(a, lambda prompt: "certainly not this", benchmark=bench, confidence=0.9, n_runs=2)
    task = h2h.task_result
    assert task.n_runs == 2 and task.model_calls == h2h.calls_made
    assert h2h.calls_saved == 2 * n * 2 - h2h.calls_made
    assert all(len(row) == 2 for row in task.run_scores["model1"])


def test_bad_n_runs(fixtures) -> None:
    bench, gold = _drop(fixtures)
    with pytest.raises(ConfigError, match="`n_runs` must be an integer >= 1"):
        bench.evaluate(Flaky(gold), n_runs=0)
    with pytest.raises(ConfigError, match="`reduce` must be"):
        bench.evaluate(Flaky(gold), n_runs=2, reduce="pass@3")
