"""inspect_model() against the real inspect-ai package: Inspect's mockllm provider, and Inspect's
OpenAI provider talking to the fake provider server on 127.0.0.1.

inspect-ai is installed by scripts/setup.sh; under CI=true a missing package fails this module
loudly instead of skipping it."""

from __future__ import annotations

import asyncio
import os
import re

import pytest

if os.environ.get("CI", "").lower() == "true":
    import inspect_ai.model  # noqa: F401  (CI must have it: an ImportError fails the run)
else:
    pytest.importorskip("inspect_ai.model", reason='inspect-ai is not installed: pip install "inspect-ai==0.3.285"')

from inspect_ai.model import GenerateConfig, ModelOutput, ModelUsage, get_model  # noqa: E402

from bayesbench import BayesianBenchmark  # noqa: E402
from bayesbench.errors import ConfigError  # noqa: E402
from bayesbench.execution import Executor, RetryPolicy  # noqa: E402
from bayesbench.models import _conformance, as_callable, check_model_adapter, classify_error, inspect_model  # noqa: E402
from bayesbench.store import Store  # noqa: E402
from tests.fakeserver import FakeServer  # noqa: E402

KEY = "sk-dummy-inspect-0123456789abcdef"
# A known chat model name: Inspect treats unknown OpenAI names as new reasoning models (no temperature).
OPENAI_NAME = "openai/gpt-4o-mini"


def output(text: str) -> ModelOutput:
    """A mockllm answer with usage set, so Inspect never loads a tokenizer to count tokens."""
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=5, output_tokens=1, total_tokens=6)
    return out


def asked(messages) -> str:
    return str(messages[-1].content)


def solve(messages, tools, tool_choice, config):
    a, b = map(int, re.findall(r"\d+", asked(messages))[:2])
    return output(str(a + b))


def always_zero(messages, tools, tool_choice, config):
    return output("0")


def mock(fn=solve, **kw):
    return inspect_model("mockllm/model", model_args={"custom_outputs": fn}, **kw)


def openai_inspect(server: FakeServer, **kw):
    kw.setdefault("model_args", {"responses_api": False})
    kw.setdefault("api_key", KEY)
    return inspect_model(OPENAI_NAME, base_url=server.openai_base_url, **kw)


def call(executor: Executor, model, problem, name="m"):
    async def go():
        try:
            return await executor.call(name, as_callable(model), problem, problem_id="p")
        finally:
            await model.aclose()

    return asyncio.run(go())


# -- answers, usage, options ---------------------------------------------------------------


def test_mockllm_answers_through_the_executor_with_retries_off():
    import sys

    hook = sys.excepthook
    model = mock()
    assert sys.excepthook is hook  # building a model leaves the process's excepthook alone
    assert model.config.max_retries == 0 and model._model.config.max_retries is None
    record = call(Executor(), model, {"question": "What is 2 + 40?"})
    assert record.ok and record.response == "42" and record.attempts == 1
    assert (record.input_tokens, record.output_tokens) == (5, 1)


def test_generate_config_fields_and_model_args_reach_the_provider():
    with FakeServer() as server:
        model = openai_inspect(server, temperature=0.3, max_tokens=7, seed=11, top_p=0.5,
                               config=GenerateConfig(stop_seqs=["\n\n"], top_p=0.9), system_prompt="Be brief.")
        assert str(call(Executor(), model, "Say hi").response) == "echo: Say hi"
        (request,) = server.api_requests()
        body = request.body
        assert request.path.endswith("/chat/completions")  # responses_api=False reached the provider
        assert (body["temperature"], body["top_p"], body["seed"], body["stop"]) == (0.3, 0.5, 11, ["\n\n"])
        assert body.get("max_tokens", body.get("max_completion_tokens")) == 7
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        assert request.headers["authorization"] == f"Bearer {KEY}"


def test_bad_generate_config_field_is_a_clear_error():
    with pytest.raises(ConfigError, match="temprature"):
        mock(temprature=0.2)
    with pytest.raises(ConfigError, match="`config` must be an inspect_ai.model.GenerateConfig"):
        mock(config={"temperature": 0.2})
    with pytest.raises(ConfigError, match="`model_args` must be a dict"):
        inspect_model("mockllm/model", model_args=[("custom_outputs", solve)])
    with pytest.raises(ConfigError, match="not an Inspect model"):
        inspect_model("no-such-provider/x")


# -- retries belong to the executor (defect 9) -----------------------------------------------


def test_a_429_reaches_the_executor_instead_of_being_retried_inside_inspect():
    with FakeServer() as server:
        model = openai_inspect(server)
        server.add_fault(status=429, retry_after="0.2")
        executor = Executor(max_concurrency=8, retry=RetryPolicy(max_attempts=3, backoff_base=0.01))
        before = executor.concurrency_limit("m")
        record = call(executor, model, "after the rate limit")
        assert record.ok and record.response == "echo: after the rate limit"
        # one refused attempt seen by the executor, then its own retry: nothing hidden in Inspect or its SDK
        assert (record.attempts, record.rate_limited) == (2, 1)
        assert len(server.api_requests()) == 2
        assert executor.concurrency_limit("m") < before  # AIMD backed off


def test_a_429_with_no_retries_left_is_the_provider_error_not_a_wrapper():
    with FakeServer() as server:
        model = openai_inspect(server)
        server.add_fault(status=429, retry_after="5", times=5)
        record = call(Executor(retry=RetryPolicy(max_attempts=1)), model, "refused")
        assert not record.ok and record.error_status == 429 and record.rate_limited == 1
        assert record.error_type == "RateLimitError"  # not tenacity's RetryError
        assert len(server.api_requests()) == 1  # the SDK's default two retries are off


def test_provider_retries_cannot_be_switched_back_on():
    with pytest.raises(ConfigError, match="owns retries"):
        mock(max_retries=3)
    with pytest.raises(ConfigError, match="owns retries"):
        mock(config=GenerateConfig(max_retries=2))
    with pytest.raises(ConfigError, match="owns retries"):
        inspect_model("mockllm/model", model_args={"max_retries": 2})
    with FakeServer() as server:
        retrying = get_model(OPENAI_NAME, base_url=server.openai_base_url, api_key=KEY,
                             responses_api=False, memoize=False)  # the OpenAI SDK retries twice by default
        with pytest.raises(ConfigError, match="SDK client retries 2 times"):
            inspect_model(retrying)
        quiet = get_model(OPENAI_NAME, base_url=server.openai_base_url, api_key=KEY,
                          responses_api=False, memoize=False, max_retries=0)
        adapter = inspect_model(quiet)
        assert adapter.generate("own model") == "echo: own model"
        adapter.close()
        assert not quiet.api.client.is_closed()  # the caller's Model stays the caller's to close
        asyncio.run(quiet.api.aclose())
        with pytest.raises(ConfigError, match="apply when `model` is a name"):
            inspect_model(quiet, model_args={"x": 1})


def test_attempt_timeout_is_a_timeout_error():
    with FakeServer() as server:
        model = openai_inspect(server, timeout=1)
        server.add_fault(delay_s=4)
        record = call(Executor(retry=RetryPolicy(max_attempts=1)), model, "slow")
        assert not record.ok and record.error_type == "TimeoutError"
        assert len(server.api_requests()) == 1


def test_errors_classify_as_the_provider_said():
    with FakeServer() as server:
        model = openai_inspect(server)
        server.add_fault(status=503, retry_after="0")
        with pytest.raises(Exception) as info:
            model.generate("x")
        assert classify_error(info.value).status == 503 and classify_error(info.value).retryable
        server.add_fault(status=400)
        with pytest.raises(Exception) as info:
            model.generate("x")
        assert classify_error(info.value).status == 400 and not classify_error(info.value).retryable
        model.close()


def fragments(key: str, n: int = 8) -> list[str]:
    return [key[i:i + n] for i in range(len(key) - n + 1)]


def test_the_api_key_never_reaches_an_error_record_or_answer(tmp_path):
    wrong = "sk-wrong-0123456789SECRETabcdef"
    store = Store(tmp_path / "keys.sqlite")
    with FakeServer(required_api_key="sk-the-right-one-000000") as server:  # a 401 body echoes the wrong key
        model = openai_inspect(server, api_key=wrong)
        record = call(Executor(store=store, retry=RetryPolicy(max_attempts=3)), model, "hi")
        assert record.error_status == 401 and record.attempts == 1  # classified as before: not retried
        assert "401" in record.error and not any(f in record.error for f in fragments(wrong))
        stored = " ".join(str(c["error"]) for c in store.calls())
        assert stored.strip() and not any(f in stored for f in fragments(wrong))
    with FakeServer(answer=f"your key is {KEY}.") as server:  # an answer quoting the key
        model = openai_inspect(server)
        record = call(Executor(store=store), model, "what is my key?")
        assert record.ok and "***" in record.response and not any(f in record.response for f in fragments(KEY))
    store.close()


# -- cache identity (defect 8) ----------------------------------------------------------------


def test_cache_key_covers_everything_that_changes_an_answer():
    key = mock().cache_key()
    assert key == mock().cache_key()  # stable: a new instance of the same model shares the cache
    fixed = [output("Paris")]
    assert inspect_model("mockllm/model", model_args={"custom_outputs": fixed}).cache_key() == \
        inspect_model("mockllm/model", model_args={"custom_outputs": [output("Paris")]}).cache_key()
    different = [
        mock(always_zero),
        inspect_model("mockllm/model", model_args={"custom_outputs": [output("Lyon")]}),
        inspect_model("mockllm/other", model_args={"custom_outputs": solve}),
        mock(temperature=0.7),
        mock(max_tokens=9),
        mock(seed=3),
        mock(top_p=0.5),
        mock(stop_seqs=["\n"]),
        mock(config=GenerateConfig(reasoning_effort="high")),
        mock(system_prompt="Be brief."),
        mock(prompt_key="input"),
        mock(prompt_fn=asked),
    ]
    keys = [m.cache_key() for m in different]
    assert key not in keys and len(set(keys)) == len(keys)
    # operational settings do not change answers, so they keep the cache
    assert mock(timeout=5, max_connections=3).cache_key() == key


def test_cache_key_names_the_endpoint_and_never_the_key(monkeypatch):
    with FakeServer() as one, FakeServer() as two:
        keys = []
        for server in (one, two):  # an endpoint from the environment counts as well
            monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
            from_env = inspect_model(OPENAI_NAME, api_key=KEY, model_args={"responses_api": False})
            keys.append(from_env.cache_key())
            from_env.close()
        assert keys[0] != keys[1]
        a = openai_inspect(one)
        assert a.cache_key() != openai_inspect(two).cache_key()
        assert a.cache_key() != openai_inspect(one, model_args={"responses_api": False, "service_tier": "flex"}).cache_key()
        other_key = inspect_model(OPENAI_NAME, base_url=one.openai_base_url, api_key="sk-another-key-000000",
                                  model_args={"responses_api": False})
        assert a.cache_key() == other_key.cache_key()
        assert KEY not in a.cache_key() and KEY[:12] not in a.cache_key()
        for m in (a, other_key):
            m.close()


def exact(problem, response):
    return float(str(response).strip() == problem["answer"])


def test_a_different_inspect_model_under_the_same_label_gets_no_cached_answers(tmp_path):
    """The reported false winner: with a store, run 1 compares a right and a wrong model; run 2
    puts a different (wrong) Inspect model under run 1's label ``model_a``. Sharing run 1's cached
    answers made it "win"; now it is called for real and ties."""
    problems = [{"id": i, "question": f"What is {i} + {i + 1}?", "answer": str(2 * i + 1)} for i in range(40)]
    db = str(tmp_path / "runs.sqlite")
    calls = {"wrong_a": 0}

    def wrong_a(messages, tools, tool_choice, config):
        calls["wrong_a"] += 1
        return output("0")

    first = BayesianBenchmark(seed=1, store=db, max_problems=40).compare(mock(solve), mock(always_zero), exact, problems)
    assert first.winner == "model_a"
    second = BayesianBenchmark(seed=1, store=db, max_problems=40).compare(mock(wrong_a), mock(always_zero), exact, problems)
    assert second.winner is None
    assert calls["wrong_a"] == second.problems_tested  # every answer asked for, none served from run 1
    store = Store(db)
    seen = {c["problem_id"] for c in store.calls(first.run_id) if c["model"] == "model_b"}
    again = [c for c in store.calls(second.run_id) if c["model"] == "model_b" and c["problem_id"] in seen]
    assert again and all(c["cached"] for c in again)  # the unchanged model_b still reuses its answers
    store.close()


def test_shared_cache_key_check_passes():
    """The conformance suite's cache-key check: every inspect_model parameter that can change an
    answer changes the key; the rest are declared neutral."""
    check_cache_key = _conformance.check_cache_key
    base = {"model": "mockllm/model", "model_args": {"custom_outputs": solve}, "api_key": "sk-base-secret-0123456789"}
    variants = {
        "model": "mockllm/other", "prompt_key": "input", "prompt_fn": asked, "system_prompt": "Be brief.",
        "temperature": 0.7, "max_tokens": 9, "seed": 3, "timeout": 5, "base_url": "http://127.0.0.1:9/v1",
        "api_key": "sk-other-secret-0123456789", "model_args": {"custom_outputs": always_zero},
        "config": GenerateConfig(top_p=0.5),
    }
    report = check_cache_key(inspect_model, base, variants, neutral=["timeout", "api_key"])
    assert report.passed, report.summary()


def test_conformance_suite_passes():
    model = mock(lambda messages, tools, tool_choice, config: output("OK"))
    report = check_model_adapter(model)
    assert report.passed, report.summary()
    model.close()


# -- resources --------------------------------------------------------------------------------


def test_sync_calls_share_one_loop_and_close_releases_the_client():
    with FakeServer() as server:
        model = openai_inspect(server)
        # the async client's pooled connection is reused across sync calls: one loop serves them all
        assert [model.generate(f"n{i}") for i in range(3)] == [f"echo: n{i}" for i in range(3)]
        client = model._model.api.client
        model.close()
        assert client.is_closed() and model._loop is None
        model.close()  # idempotent
        # a closed adapter serves the next run with a fresh client (the engine closes models after each run)
        assert model.generate("after close") == "echo: after close"
        assert model._model.api.client is not client and not model._model.api.client.is_closed()
        model.close()
        assert model._model.api.client.is_closed()


def test_aclose_on_the_running_loop():
    with FakeServer() as server:
        model = openai_inspect(server)

        async def go():
            async with model:
                assert await model.acall("hello") == "echo: hello"
            closed = model._model.api.client.is_closed()
            assert await model.acall("again") == "echo: again"  # reopened on the same loop
            await model.aclose()
            return closed and model._model.api.client.is_closed()

        assert asyncio.run(go()) is True
