"""The response cache must tell adapters apart by everything that changes the answer."""

from __future__ import annotations

from bayesbench.adapters.openai_compat import openai_model
from bayesbench.execution._keys import callable_identity
from bayesbench.models import as_callable


def test_adapters_differ_by_model_endpoint_and_sampling_but_not_by_key():
    base = dict(base_url="http://127.0.0.1:9/v1", api_key="sk-secret-one")
    a = openai_model("gpt-4o", **base)
    assert callable_identity(a) == callable_identity(openai_model("gpt-4o", **base))
    assert callable_identity(a) != callable_identity(openai_model("gpt-4o-mini", **base))
    assert callable_identity(a) != callable_identity(openai_model("gpt-4o", **base, temperature=0.7))
    assert callable_identity(a) != callable_identity(openai_model("gpt-4o", base_url="http://127.0.0.1:8/v1",
                                                                  api_key="sk-secret-one"))
    assert callable_identity(a) != callable_identity(openai_model("gpt-4o", **base, system_prompt="Be brief."))
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
