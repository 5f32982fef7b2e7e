"""The real llama.cpp model (SmolLM2-135M) hosted in a Ray actor: loaded once, answering problems and scoring
continuations exactly as the same model in-process."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import os

import pytest

from bayesbench.execution import Executor, RayExecutor, ray_actor_model
from bayesbench.execution._keys import callable_identity
from tests._shared import require_or_skip
from tests.execution._ray_cluster import ray_cluster  # noqa: F401 - the shared cluster fixture (used by name)

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("ray_cluster")]

PROBLEMS = [{"question": q} for q in ("What is 2 + 2?", "Name a colour.", "What is the capital of France?",
                                        "Say hello.")]


def test_smollm2_in_a_ray_actor_answers_like_in_process(gguf_path):
    require_or_skip(importlib.util.find_spec("llama_cpp") is not None,
                    'llama-cpp-python is not installed: pip install "bayesbench[local]"')
    from bayesbench.models import llamacpp_model

    factory = functools.partial(llamacpp_model, str(gguf_path), max_tokens=12)
    local_model = factory()
    hosted = ray_actor_model(factory, num_cpus=1)

    async def ask(executor, model):
        with executor:
            return await asyncio.gather(*(executor.call("smollm2", model, p, problem_id=str(i))
                                          for i, p in enumerate(PROBLEMS)))

    try:
        on_ray = asyncio.run(ask(RayExecutor(max_concurrency=4), hosted))
        actor_pid = hosted.pid()
        scores = asyncio.run(hosted.call_method("loglikelihood", "The capital of France is", [" Paris", " banana"]))
        identity = callable_identity(hosted)
    finally:
        hosted.shutdown()
    local = asyncio.run(ask(Executor(max_concurrency=1), local_model))
    assert all(r.ok for r in on_ray), [r.error for r in on_ray]
    assert actor_pid != os.getpid()
    assert [str(r.response) for r in on_ray] == [str(r.response) for r in local]
    assert all(r.response.strip() for r in on_ray)  # real, non-empty answers
    assert [r.output_tokens for r in on_ray] == [r.output_tokens for r in local]  # the model's own token counts
    assert identity == callable_identity(local_model)  # the same cache key as in-process
    local_scores = local_model.loglikelihood("The capital of France is", [" Paris", " banana"])
    assert [s.logprob for s in scores] == pytest.approx([s.logprob for s in local_scores], abs=1e-4)
    assert scores[0].logprob > scores[1].logprob
