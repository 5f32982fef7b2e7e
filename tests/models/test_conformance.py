"""The shared conformance suite: check_model_adapter over every adapter that can run here."""

import pytest

from bayesbench.errors import ModelError
from bayesbench.models import BaseLLM, anthropic_model, as_callable, check_model_adapter, hf_model, openai_model


class EchoLLM(BaseLLM):
    def generate(self, prompt: str) -> str:
        return f"echo: {prompt}"


class AsyncEchoLLM(EchoLLM):
    async def a_generate(self, prompt: str) -> str:
        return f"echo: {prompt}"


def plain_fn(problem):
    # A well-behaved function: sends only the question text to its "model".
    return "echo: " + (problem if isinstance(problem, str) else problem["question"])


async def async_fn(problem):
    return plain_fn(problem)


ADAPTERS = {
    "openai-chat": lambda s: openai_model("fake-model", base_url=s.openai_base_url),
    "openai-completion": lambda s: openai_model("fake-model", base_url=s.openai_base_url, mode="completion"),
    "openai-stream": lambda s: openai_model("fake-model", base_url=s.openai_base_url, stream=True),
    "openai-completion-stream": lambda s: openai_model("fake-model", base_url=s.openai_base_url, mode="completion", stream=True),
    "anthropic": lambda s: anthropic_model("fake-claude", base_url=s.url, system_prompt="Be brief."),
    "anthropic-stream": lambda s: anthropic_model("fake-claude", base_url=s.url, stream=True),
    "huggingface": lambda s: hf_model("fake-model", base_url=s.url),
    "base-llm-sync": lambda s: EchoLLM(),
    "base-llm-async": lambda s: AsyncEchoLLM(),
    "function-sync": lambda s: plain_fn,
    "function-async": lambda s: async_fn,
    "wrapped-with-prompt-key": lambda s: as_callable(lambda text: f"echo: {text}", prompt_key="question"),
}


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_adapter_conforms(fake_server, name):
    model = ADAPTERS[name](fake_server)
    report = check_model_adapter(model, [{"question": "extra one", "answer": "x"}, "extra two"])
    assert report.passed, report.summary()
    assert {c.name for c in report.checks} >= {
        "sync_async_detection", "string_problem", "dict_problem", "no_answer_leak", "errors_classifiable", "user_problems[1]"}


@pytest.mark.parametrize("name", [n for n in ADAPTERS if n.startswith(("openai", "anthropic", "huggingface"))])
def test_provider_adapters_send_only_the_question(fake_server, name):
    model = ADAPTERS[name](fake_server)
    answer = model({"question": "What is 6*7?", "answer": "CANARY-42", "id": 3})
    assert answer == "echo: What is 6*7?"
    prompt = fake_server.api_requests()[-1].prompt
    assert "CANARY-42" not in prompt and "What is 6*7?" in prompt
    assert answer.input_tokens is not None and answer.output_tokens == 4  # fake server counts words


def test_streaming_measures_time_to_first_token(fake_server):
    fake_server.latency_s = 0.1
    fake_server.stream_chunk_delay_s = 0.05
    for model in (ADAPTERS["openai-stream"](fake_server), ADAPTERS["anthropic-stream"](fake_server)):
        answer = model("one two three four")
        assert answer == "echo: one two three four"
        # The server waits latency_s before the first chunk, then 4 more chunks 50 ms apart.
        assert answer.ttft_s is not None and 0.1 <= answer.ttft_s
        assert answer.output_tokens == 5 and answer.finish_reason in ("stop", "end_turn")


def test_request_carries_the_common_options(fake_server):
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, system_prompt="sys", temperature=0.5,
                         max_tokens=7, seed=11, stop=["\n"])
    model("hi")
    body = fake_server.api_requests()[-1].body
    assert body["messages"] == [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    assert (body["temperature"], body["max_tokens"], body["seed"], body["stop"]) == (0.5, 7, 11, ["\n"])
    anthropic_model("fake-claude", base_url=fake_server.url, system_prompt="sys", max_tokens=9)("hi")
    body = fake_server.api_requests()[-1].body
    assert body["system"] == "sys" and body["max_tokens"] == 9 and body["temperature"] == 0.0
    completion = openai_model("fake-model", base_url=fake_server.openai_base_url, mode="completion", system_prompt="sys")
    completion("hi")
    assert fake_server.api_requests()[-1].body["prompt"] == "sys\n\nhi"


class LeakyLLM(BaseLLM):
    def generate(self, prompt: str) -> str:
        return prompt

    def build_prompt(self, problem):
        return str(problem)  # the original bayesbench's bug


def leaky_fn(problem):
    return str(problem)


def wrong_type(problem):
    return 42


def test_the_checker_catches_broken_adapters():
    for bad, failing in [(LeakyLLM(), "no_answer_leak"), (leaky_fn, "no_answer_leak"), (wrong_type, "string_problem")]:
        report = check_model_adapter(bad, raise_on_failure=False)
        assert not report.passed and failing in {c.name for c in report.failures}, report.summary()
    with pytest.raises(ModelError, match="conformance check"):
        check_model_adapter(wrong_type)


def test_the_checker_flags_retryable_errors_on_bad_input():
    def retries_bad_input(problem):
        if isinstance(problem, dict) and "question" not in problem:
            raise RuntimeError("unknown problem")  # classified retryable: wrong for bad input
        return "ok"

    report = check_model_adapter(retries_bad_input, raise_on_failure=False)
    assert [c.name for c in report.failures] == ["errors_classifiable"]
