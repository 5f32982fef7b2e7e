import asyncio

import pytest

from bayesbench.errors import ConfigError
from bayesbench.models import BaseLLM, as_callable, is_async_callable, model_name, supports_batch


class Echo(BaseLLM):
    def generate(self, prompt: str) -> str:
        return f"sync:{prompt}"


class AsyncEcho(Echo):
    async def a_generate(self, prompt: str) -> str:
        return f"async:{prompt}"

    def get_model_name(self) -> str:
        return "async-echo"


class Batched(Echo):
    def batch_generate(self, prompts):
        return [self.generate(p) for p in prompts]


def test_base_llm_is_a_callable_over_problems():
    assert Echo()({"question": "q", "answer": "a"}) == "sync:q"
    assert repr(Echo()) == "Echo(model='Echo')"


def test_unimplemented_generate_says_what_to_do():
    with pytest.raises(NotImplementedError, match="must implement generate"):
        BaseLLM()("x")


def test_as_callable_prefers_a_generate():
    fn = as_callable(AsyncEcho())
    assert is_async_callable(fn) and fn.model_name == "async-echo"
    assert asyncio.run(fn({"question": "q"})) == "async:q"
    sync = as_callable(Echo())
    assert not is_async_callable(sync) and sync({"prompt": "p"}) == "sync:p"


def test_as_callable_prompt_options_override_the_model():
    fn = as_callable(Echo(), prompt_key="text")
    assert fn({"text": "t", "question": "ignored"}) == "sync:t"
    fn = as_callable(Echo(), prompt_fn=lambda p: p["a"] + p["b"])
    assert fn({"a": "x", "b": "y"}) == "sync:xy"


def test_as_callable_functions_get_the_problem_or_the_prompt():
    def f(problem):
        return repr(problem)

    async def af(problem):
        return f"a:{problem}"

    assert as_callable(f)({"question": "q"}) == "{'question': 'q'}"
    assert as_callable(f, prompt_key="question")({"question": "q"}) == "'q'"
    wrapped = as_callable(af)
    assert is_async_callable(wrapped) and wrapped.model_name == "af"
    assert asyncio.run(wrapped("x")) == "a:x"
    assert asyncio.run(as_callable(af, prompt_key="question")({"question": "q"})) == "a:q"


def test_as_callable_rejects_non_models():
    with pytest.raises(ConfigError, match="must be a BaseLLM"):
        as_callable(42)
    with pytest.raises(ConfigError, match="mutually exclusive"):
        as_callable(Echo(), prompt_key="a", prompt_fn=str)


def test_supports_batch_sees_through_wrappers():
    assert supports_batch(Batched()) and supports_batch(as_callable(Batched()))
    assert not supports_batch(Echo()) and not supports_batch(as_callable(lambda p: "x"))


def test_model_name_fallbacks():
    class Named:
        model_name = "n1"

        def __call__(self, p):
            return "x"

    assert model_name(Named()) == "n1"
    assert model_name(as_callable(AsyncEcho())) == "async-echo"
