"""The response cache must tell adapters apart by everything that changes the answer, and the
conformance suite enforces it against each factory's signature."""

from __future__ import annotations

import asyncio
import importlib.util
import os

import pytest

from bayesbench.adapters.openai_compat import openai_model
from bayesbench.errors import ModelError
from bayesbench.execution import Executor
from bayesbench.execution._keys import callable_identity
from bayesbench.models import (
    OpenAIModel,
    anthropic_model,
    as_callable,
    check_cache_key,
    check_model_adapter,
    hf_model,
    llamacpp_model,
)
from bayesbench.store import Store

URL = "http://127.0.0.1:9/v1"


def other_prompt(problem):
    return problem["text"]


COMMON = dict(prompt_key="input", prompt_fn=other_prompt, system_prompt="Be brief.", temperature=0.7,
              max_tokens=7, timeout=5.0)
NEUTRAL = ("api_key", "timeout")

SPECS = {
    "openai": (openai_model, {"model": "gpt-4o", "base_url": URL, "api_key": "sk-secret-one"},
               dict(COMMON, model="gpt-4o-mini", base_url="http://127.0.0.1:8/v1", api_key="sk-secret-two",
                    mode="completion", seed=3, stream=True, stop=["\n"]), NEUTRAL, ()),
    "anthropic": (anthropic_model, {"model": "claude-x", "base_url": "http://127.0.0.1:9", "api_key": "sk-ant-one"},
                  dict(COMMON, model="claude-y", base_url="http://127.0.0.1:8", api_key="sk-ant-two",
                       mode="completion", seed=3, stream=True, stop=["\n"]), NEUTRAL, ("mode", "seed")),
    "huggingface": (hf_model, {"model_id": "org/m", "base_url": "http://127.0.0.1:9", "api_key": "hf_one"},
                    dict(COMMON, model_id="org/n", base_url="http://127.0.0.1:8", api_key="hf_two", provider="together",
                         mode="completion", seed=3), NEUTRAL, ()),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_every_factory_parameter_is_in_the_key_or_declared_neutral(name):
    factory, base, variants, neutral, fixed = SPECS[name]
    report = check_cache_key(factory, base, variants, neutral=neutral, fixed=fixed)
    assert report.passed, report.summary()
    checked = {c.name for c in report.checks}
    assert {"cache_key[stop]", "cache_key[stream]"} <= checked or name == "huggingface"
    assert "cache_key_has_no_secret" in checked


def test_llamacpp_key_covers_its_parameters(tmp_path):
    from tests.models.conftest import smollm2_path

    if importlib.util.find_spec("llama_cpp") is None or smollm2_path() is None:
        from tests.models.conftest import require_or_skip

        require_or_skip(False, "llama-cpp-python or the SmolLM2 GGUF is not installed")
    path = smollm2_path()
    other = tmp_path / "copy.gguf"
    try:
        os.link(path, other)
    except OSError:
        import shutil

        shutil.copyfile(path, other)
    variants = dict(COMMON, path=str(other), mode="completion", seed=3, n_ctx=512, n_threads=2,
                    chat_format="chatml", verbose=True)
    report = check_cache_key(llamacpp_model, {"path": str(path), "n_ctx": 256}, variants,
                             neutral=("timeout", "n_threads", "verbose"))
    assert report.passed, report.summary()


def test_stop_and_stream_change_the_key():
    # Defect 8: the OpenAI adapter's key ignored both.
    base = callable_identity(openai_model("gpt-4o", base_url=URL))
    assert callable_identity(openai_model("gpt-4o", base_url=URL, stop=["\n"])) != base
    assert callable_identity(openai_model("gpt-4o", base_url=URL, stream=True)) != base
    assert callable_identity(as_callable(openai_model("gpt-4o", base_url=URL, stop=["\n"]))) != base


def test_a_key_that_ignores_a_parameter_fails_the_conformance_suite(fake_server):
    class ForgetsStop(OpenAIModel):
        def _answer_parameters(self):
            params = super()._answer_parameters()
            del params["stop"]
            return params

    def forgetful(model="fake-model", base_url=None, stop=None, timeout=60.0):
        return ForgetsStop(model, base_url=base_url, api_key=None, prompt_key=None, prompt_fn=None,
                           system_prompt=None, mode="chat", temperature=0.0, max_tokens=16, seed=None,
                           timeout=timeout, stream=False, stop=stop)

    base = {"base_url": fake_server.openai_base_url}
    variants = {"model": "m2", "base_url": "http://127.0.0.1:8/v1", "stop": ["\n"], "timeout": 1.0}
    report = check_cache_key(forgetful, base, variants, neutral=["timeout"], raise_on_failure=False)
    assert [c.name for c in report.failures] == ["cache_key[stop]"], report.summary()
    with pytest.raises(ModelError, match="cache key"):
        check_cache_key(forgetful, base, variants, neutral=["timeout"])
    # a parameter nobody gave a variant for is a failure too, not a silent pass
    report = check_cache_key(forgetful, base, {"model": "m2", "base_url": "http://127.0.0.1:8/v1", "timeout": 1.0},
                             neutral=["timeout"], raise_on_failure=False)
    assert any("not covered" in c.detail for c in report.failures)
    # and check_model_adapter runs the same checks when given a factory
    report = check_model_adapter(forgetful(**base), factory=forgetful, base=base, variants=variants,
                                 neutral=["timeout"], raise_on_failure=False)
    assert [c.name for c in report.failures] == ["cache_key[stop]"]


def test_a_stop_sequence_run_does_not_reuse_answers_of_a_run_without(fake_server, tmp_path):
    store_path = tmp_path / "bb.sqlite"
    fake_server.answer = lambda request: "line one" if request.body.get("stop") else "line one\nline two"

    async def run(model):
        ex = Executor(store=Store(store_path))
        try:
            return str((await ex.call("m", as_callable(model), "q")).response)
        finally:
            ex.close()
            await model.aclose()

    plain = asyncio.run(run(openai_model("fake-model", base_url=fake_server.openai_base_url)))
    stopped = asyncio.run(run(openai_model("fake-model", base_url=fake_server.openai_base_url, stop=["\n"])))
    assert (plain, stopped) == ("line one\nline two", "line one") and len(fake_server.api_requests()) == 2


def test_adapters_differ_by_model_endpoint_and_sampling_but_not_by_key():
    base = dict(base_url="http://127.0.0.1:9/v1", api_key="sk-secret-one")
    a = openai_model("gpt-4o", **base)
    assert callable_identity(a) == callable_identity(openai_model("gpt-4o", **base))
    other_key = openai_model("gpt-4o", base_url=base["base_url"], api_key="sk-secret-two")
    assert callable_identity(a) == callable_identity(other_key)
    assert "sk-secret" not in callable_identity(a)
    # wrapping for the engine keeps the identity
    assert callable_identity(as_callable(a)) == callable_identity(a)


def answer_one(problem):
    return "one"


def answer_two(problem):
    return "two"


def test_wrapped_plain_functions_keep_their_own_identity():
    assert callable_identity(as_callable(answer_one)) != callable_identity(as_callable(answer_two))
    assert callable_identity(as_callable(answer_one)).endswith("test_cache_identity.answer_one")
    assert callable_identity(as_callable(answer_one, prompt_key="question")) != \
        callable_identity(as_callable(answer_one, prompt_key="input"))


def test_every_provider_adapter_has_a_cache_key_spec_here():
    import bayesbench.models as models
    from bayesbench.models._provider import ProviderModel

    adapters = {obj for obj in vars(models).values() if isinstance(obj, type) and issubclass(obj, ProviderModel)}
    covered = {type(factory(**base)) for factory, base, *_ in SPECS.values()} | {models.LlamaCppModel}
    assert adapters == covered, f"add a SPECS entry for {adapters - covered}"
