"""DeepEval-style evaluate knobs: batch_size (through batch_generate), model=, and HumanEval's n= / k=."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from bayesbench.benchmarks import DROP, GSM8K, HumanEval
from bayesbench.errors import ConfigError


class BatchModel:
    """A DeepEval-style model: generate(prompt) and batch_generate(prompts), answering from a table."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.single_calls = 0
        self.batches: list[int] = []
        self._lock = threading.Lock()

    def get_model_name(self) -> str:
        return "batchy"

    def generate(self, prompt: str) -> str:
        with self._lock:
            self.single_calls += 1
        return self.table[prompt]

    def batch_generate(self, prompts: list[str]) -> list[str]:
        with self._lock:
            self.batches.append(len(prompts))
        return [self.table[p] for p in prompts]


def _drop(fixtures: Path) -> tuple[DROP, dict[str, str]]:
    bench = DROP(n_shots=0, data_dir=fixtures / "drop")
    gold = {p["prompt"]: p["reference"]["answers"][0] for p in bench.problems()}
    return bench, {k: v if isinstance(v, str) else ", ".join(v) for k, v in gold.items()}


def test_batch_size_sends_prompts_through_batch_generate(fixtures) -> None:
    bench, gold = _drop(fixtures)
    n = len(bench.problems())
    model = BatchModel(gold)
    result = bench.evaluate(model, batch_size=4)
    assert model.single_calls == 0
    assert sorted(model.batches, reverse=True) == [4] * (n // 4) + ([n % 4] if n % 4 else [])
    assert result.overall_accuracy.value == 1.0 and result.n_errors == 0 and result.n_problems == n
    # the same numbers as one call per prompt
    plain = BatchModel(gold)
    again = bench.evaluate(model=plain)  # DeepEval passes the model by keyword
    assert plain.batches == [] and plain.single_calls == n
    assert [r.score for r in again.records] == [r.score for r in result.records]


def test_batch_size_without_batch_generate_is_one_call_per_prompt(fixtures) -> None:
    bench, gold = _drop(fixtures)
    seen: list[str] = []
    result = bench.evaluate(lambda prompt: seen.append(prompt) or gold[prompt], batch_size=5)
    assert sorted(seen) == sorted(gold) and result.overall_accuracy.value == 1.0


def test_a_short_or_broken_batch_is_a_failed_call_not_empty_answers(fixtures) -> None:
    bench, gold = _drop(fixtures)
    n = len(bench.problems())

    class Short(BatchModel):
        def batch_generate(self, prompts: list[str]) -> list[str]:
            answers = super().batch_generate(prompts)
            return answers[:-1] if len(prompts) == 2 else answers  # drops an answer in 2-prompt batches

    model = Short(gold)
    result = bench.evaluate(model, batch_size=2, max_retries=0)
    failed = [r for r in result.records if r.error is not None]
    assert len(failed) == 2 * (n // 2) and all("one answer per prompt (2), got 1 answers" in r.error for r in failed)
    assert all(r.prediction is None and r.score == 0.0 for r in failed)
    assert result.n_errors == len(failed)

    class Holes(BatchModel):
        def batch_generate(self, prompts: list[str]) -> list[str | None]:  # type: ignore[override]
            answers: list[str | None] = list(super().batch_generate(prompts))
            answers[0] = None
            return answers

    holes = bench.evaluate(Holes(gold), batch_size=3, max_retries=0)
    missing = [r for r in holes.records if r.error is not None]
    assert len(missing) == -(-n // 3) and all("returned None for this prompt" in r.error for r in missing)
    assert all(r.score == 1.0 for r in holes.records if r.error is None)


def test_async_batch_generate_and_a_retried_batch(fixtures) -> None:
    bench, gold = _drop(fixtures)
    attempts = {"n": 0}

    class AsyncBatch:
        def generate(self, prompt: str) -> str:
            raise AssertionError("batch_size must use batch_generate")

        async def batch_generate(self, prompts: list[str]) -> list[str]:
            await asyncio.sleep(0)
            attempts["n"] += 1
            if attempts["n"] == 1:
                raise ConnectionError("transient")  # retried by the executor as a whole batch
            return [gold[p] for p in prompts]

    result = bench.evaluate(AsyncBatch(), batch_size=100, max_retries=1)
    assert attempts["n"] == 2 and result.overall_accuracy.value == 1.0 and result.n_errors == 0


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_batch_size_is_validated(fixtures, bad) -> None:
    bench = GSM8K(n_shots=0, data_dir=fixtures / "gsm8k")
    with pytest.raises(ConfigError, match=rf"`batch_size` must be an integer >= 1, got {bad!r}"):
        bench.evaluate(lambda prompt: "1", batch_size=bad)


def _humaneval_dir(tmp_path: Path) -> Path:
    rows = [
        {"task_id": f"T/{i}", "prompt": f"def add{i}(a, b):\n    \"\"\"Add.\"\"\"\n", "entry_point": f"add{i}",
         "canonical_solution": "    return a + b\n",
         "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"}
        for i in range(2)
    ]
    (tmp_path / "HumanEval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_humaneval_deepeval_n_and_k_with_batches(tmp_path) -> None:
    bench = HumanEval(n=4, data_dir=_humaneval_dir(tmp_path))
    assert bench.n_samples == 4 and bench.ks == [1]
    counts: dict[str, int] = {}

    class Half(BatchModel):  # 2 of the 4 samples of each problem are right
        def batch_generate(self, prompts: list[str]) -> list[str]:
            self.batches.append(len(prompts))
            out = []
            for p in prompts:
                counts[p] = counts.get(p, 0) + 1
                out.append("    return a + b\n" if counts[p] <= 2 else "    return a - b\n")
            return out

    model = Half({})
    result = bench.evaluate(model, k=[1, 2], batch_size=3)
    assert sum(model.batches) == 8 and max(model.batches) == 3
    assert [r.details["c"] for r in result.records] == [2, 2]
    assert result.primary_metric == "pass@1" and result.overall_accuracy.value == pytest.approx(0.5)
    assert result.metrics["pass@2"].value == pytest.approx(5 / 6) and result.settings["k"] == [1, 2]

    with pytest.raises(ConfigError, match="`k` must be <= n_samples"):
        bench.evaluate(model, k=5)
    assert bench.ks == [1, 2]  # a refused k changes nothing
    with pytest.raises(ConfigError, match="`n` .* and `n_samples` mean the same"):
        HumanEval(n=2, n_samples=3, data_dir=tmp_path)
