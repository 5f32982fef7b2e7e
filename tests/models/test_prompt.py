from dataclasses import dataclass

import pytest

from bayesbench.errors import ConfigError, DatasetError
from bayesbench.models import default_prompt, make_prompt_builder


@pytest.mark.parametrize("key", ["question", "prompt", "input"])
def test_default_prompt_uses_the_question_field_only(key):
    problem = {key: "What is 2+2?", "answer": "4", "id": 7}
    assert default_prompt(problem) == "What is 2+2?"


def test_default_prompt_order_and_plain_strings():
    assert default_prompt("just text") == "just text"
    assert default_prompt({"input": "c", "prompt": "b", "question": "a"}) == "a"


def test_default_prompt_reads_attributes_like_inspect_samples():
    @dataclass
    class Sample:
        input: str
        target: str

    assert default_prompt(Sample("hi", "secret")) == "hi"


def test_missing_question_is_a_clear_dataset_error_without_values():
    with pytest.raises(DatasetError) as info:
        default_prompt({"q": "What?", "answer": "SECRET-ANSWER"})
    message = str(info.value)
    assert "prompt_key=" in message and "prompt_fn=" in message and "'q'" in message
    assert "SECRET-ANSWER" not in message and "What?" not in message


def test_non_string_question_is_rejected():
    with pytest.raises(DatasetError, match="must be a str"):
        default_prompt({"question": ["a", "b"]})


def test_prompt_key_and_prompt_fn():
    by_key = make_prompt_builder(prompt_key="q")
    assert by_key({"q": "hello", "answer": "x"}) == "hello"
    assert by_key("raw") == "raw"
    with pytest.raises(DatasetError, match="no key 'q'"):
        by_key({"question": "x"})
    by_fn = make_prompt_builder(prompt_fn=lambda p: f"Q: {p['q']}\nA:")
    assert by_fn({"q": "2+2"}) == "Q: 2+2\nA:"
    with pytest.raises(ConfigError, match="must return a str"):
        make_prompt_builder(prompt_fn=lambda p: 3)({"q": 1})


def test_prompt_key_and_fn_are_exclusive():
    with pytest.raises(ConfigError, match="mutually exclusive"):
        make_prompt_builder(prompt_key="q", prompt_fn=lambda p: "x")
