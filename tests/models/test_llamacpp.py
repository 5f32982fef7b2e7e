"""Real llama.cpp: SmolLM2-135M through the OpenAI-compatible server subprocess (real SDK), and
in-process through llamacpp_model with log-likelihood scoring. Marker: llamacpp."""

import asyncio

import pytest

from bayesbench.errors import ConfigError
from bayesbench.models import (
    as_callable,
    check_model_adapter,
    classify_error,
    llamacpp_model,
    openai_model,
    supports_batch,
)

from .conftest import LLAMA_ALIAS

pytestmark = [pytest.mark.llamacpp, pytest.mark.timeout(600)]


def test_real_server_chat_through_openai_sdk(llama_server):
    model = openai_model(LLAMA_ALIAS, base_url=llama_server, max_tokens=16, seed=0)
    answer = model({"question": "What is the capital of France? Answer in one word.", "answer": "Paris"})
    assert "paris" in answer.lower(), answer
    assert answer.input_tokens and answer.input_tokens > 10 and answer.output_tokens and answer.output_tokens <= 16
    assert answer.finish_reason in ("stop", "length")


def test_real_server_async_streaming_and_completion_mode(llama_server):
    streamed = openai_model(LLAMA_ALIAS, base_url=llama_server, max_tokens=12, stream=True)
    answer = asyncio.run(streamed.acall("What is the capital of France? Answer in one word."))
    assert "paris" in answer.lower() and answer.ttft_s is not None and answer.ttft_s > 0
    completion = openai_model(LLAMA_ALIAS, base_url=llama_server, mode="completion", max_tokens=4)
    assert len(completion("The capital of France is")) > 0


def test_real_server_conforms_and_errors_classify(llama_server):
    model = openai_model(LLAMA_ALIAS, base_url=llama_server, max_tokens=8)
    assert check_model_adapter(model).passed
    # 2048-token context: a far longer prompt is rejected by the server, a client error.
    too_long = openai_model(LLAMA_ALIAS, base_url=llama_server, max_tokens=8)
    with pytest.raises(Exception) as info:
        too_long("word " * 5000)
    error = classify_error(info.value)
    assert error.status is not None and 400 <= error.status < 600, info.value


def test_in_process_generation_and_loglikelihood(gguf_path):
    model = llamacpp_model(gguf_path, max_tokens=16)
    answer = model({"question": "What is the capital of France? Answer in one word.", "answer": "x"})
    assert "paris" in answer.lower() and answer.output_tokens and answer.input_tokens
    paris, banana = model.loglikelihood("The capital of France is", [" Paris", " Banana"])
    assert paris.logprob > banana.logprob
    assert paris.logprob_per_byte > banana.logprob_per_byte
    assert paris.n_tokens >= 1 and paris.logprob < 0 and paris.is_greedy
    # The context cache must not change the numbers: scoring alone gives the same value.
    (alone,) = model.loglikelihood("The capital of France is", [" Paris"])
    assert alone.logprob == pytest.approx(paris.logprob, abs=1e-3)
    # Against llama-cpp-python's server bug (echo logprobs shifted by one), the correct value is
    # about -0.26 for SmolLM2 Q4_1 (offline-assets.md), not -8.45.
    assert paris.logprob > -2.0
    assert supports_batch(as_callable(model)) and len(model.batch_generate(["Hi", "Bye"])) == 2


def test_in_process_errors(gguf_path, tmp_path):
    model = llamacpp_model(gguf_path, n_ctx=64)
    with pytest.raises(ConfigError, match="single str"):
        model.loglikelihood("ctx", " x")
    with pytest.raises(ConfigError, match="n_ctx"):
        model.loglikelihood("word " * 100, [" x"])
    with pytest.raises(ConfigError, match="existing .gguf"):
        llamacpp_model(tmp_path / "missing.gguf")


def test_in_process_answers_pass_the_shared_completeness_check(gguf_path):
    """llama.cpp in-process goes through ProviderModel's call path: a result without a whole answer
    is an IncompleteResponse (retryable), not an empty string. The real model runs; only its result
    dict is damaged on the way out, as a broken binding could return it."""
    from bayesbench.models import IncompleteResponse, LlamaCppModel

    class Damaged(LlamaCppModel):
        damage = None

        def _send(self, llm, prompt):
            out = super()._send(llm, prompt)
            if self.damage == "no_choices":
                out["choices"] = []
            elif self.damage == "null_text":
                out["choices"][0]["message"]["content"] = None
            return out

    model = Damaged(str(gguf_path), prompt_key=None, prompt_fn=None, system_prompt=None, mode="chat",
                    temperature=0.0, max_tokens=4, seed=0, timeout=None, n_ctx=256, n_threads=1,
                    chat_format=None, verbose=False)
    try:
        for damage in ("no_choices", "null_text"):
            model.damage = damage
            with pytest.raises(IncompleteResponse) as info:
                model("Say hi.")
            assert classify_error(info.value).retryable and classify_error(info.value).kind == "incomplete"
        model.damage = None
        assert isinstance(model("Say hi."), str)
    finally:
        model.close()
        model.close()  # idempotent
    assert model._client is None  # closing freed the model
    assert isinstance(model("Say hi."), str) and model._client is not None  # a later call loads it again
    model.close()
