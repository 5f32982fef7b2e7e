import pickle

from bayesbench.models import Completion


def test_completion_is_a_str_with_metadata():
    c = Completion("Paris", input_tokens=12, output_tokens=1, ttft_s=0.05, model="m", finish_reason="stop",
                   raw_usage={"prompt_tokens": 12})
    assert isinstance(c, str) and c == "Paris" and c.upper() == "PARIS"
    assert (c.input_tokens, c.output_tokens, c.ttft_s, c.model, c.finish_reason) == (12, 1, 0.05, "m", "stop")
    assert c.metadata()["raw_usage"] == {"prompt_tokens": 12}
    assert type(c.text) is str and c.text == "Paris"
    assert type(c.strip()) is str  # derived text drops the metadata
    assert "input_tokens=12" in repr(c)


def test_completion_defaults_and_hash_equal_to_text():
    c = Completion("x")
    assert c.input_tokens is None and c.ttft_s is None and c.raw_usage is None
    assert hash(c) == hash("x") and {c: 1}["x"] == 1


def test_completion_pickles_with_metadata():
    c = Completion("ok", input_tokens=3, output_tokens=1, finish_reason="stop")
    back = pickle.loads(pickle.dumps(c))
    assert isinstance(back, Completion) and back == "ok"
    assert (back.input_tokens, back.output_tokens, back.finish_reason) == (3, 1, "stop")
