"""Inspect AI and MTEB conversions on plain objects shaped like Inspect's (from_inspect_dataset needs
no Inspect install), and st_model on a small home-made encoder object. The real libraries are tested
in test_inspect_ai.py and test_sentence_transformers.py."""

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from bayesbench.errors import ConfigError, DatasetError
from bayesbench.models import as_callable, from_inspect_dataset, mteb_sts_dataset, st_model, supports_batch
from bayesbench.models._inspect_ai import inspect_output_to_completion
from bayesbench.models._mteb import sts_rows_to_problems


@dataclass
class ContentText:
    text: str
    type: str = "text"


@dataclass
class ChatMessage:
    role: str
    content: Any


@dataclass
class Sample:  # the fields of inspect_ai.dataset.Sample we read
    input: Any
    target: Any = ""
    choices: list | None = None
    id: Any = None
    metadata: dict | None = None


@dataclass
class Task:
    dataset: list = field(default_factory=list)


def test_from_inspect_dataset_strings_messages_choices():
    samples = [
        Sample("What is 2+2?", target="4", id="a"),
        Sample([ChatMessage("system", "Be brief."), ChatMessage("user", [ContentText("Capital of "), ContentText("France?")])],
               target=["Paris"], metadata={"topic": "geo"}),
        Sample("Pick one", target="B", choices=["x", "y"], id=7),
    ]
    problems = from_inspect_dataset(samples)
    assert problems[0] == {"id": "a", "input": "What is 2+2?", "answer": "4"}
    assert problems[1]["input"] == "Capital of France?" and problems[1]["answer"] == "Paris"
    assert problems[1]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert problems[1]["id"] == "1" and problems[1]["metadata"] == {"topic": "geo"}
    assert problems[2]["choices"] == ["x", "y"] and problems[2]["id"] == "7"
    assert from_inspect_dataset(Task(dataset=samples), limit=1) == problems[:1]


def test_from_inspect_dataset_errors():
    with pytest.raises(DatasetError, match="empty"):
        from_inspect_dataset([])
    with pytest.raises(DatasetError, match="needs an Inspect Dataset"):
        from_inspect_dataset("not a dataset")
    with pytest.raises(DatasetError, match="no `input`"):
        from_inspect_dataset([Sample(None)])


def test_inspect_output_conversion():
    @dataclass
    class Usage:
        input_tokens: int
        output_tokens: int

    @dataclass
    class Output:
        completion: str
        usage: Usage
        stop_reason: str = "stop"
        model: str = "mockllm/model"
        error: str | None = None

    c = inspect_output_to_completion(Output("Paris", Usage(10, 1)))
    assert c == "Paris" and (c.input_tokens, c.output_tokens, c.finish_reason, c.model) == (10, 1, "stop", "mockllm/model")
    with pytest.raises(RuntimeError, match="returned an error"):
        inspect_output_to_completion(Output("", Usage(1, 0), error="refused"))


class HashingEncoder:
    """A tiny real encoder: bag of character trigrams hashed into 64 dims."""

    model_name = "hashing-trigrams"

    def __init__(self):
        self.calls = 0

    def encode(self, texts, batch_size=32):
        self.calls += 1
        out = np.zeros((len(texts), 64))
        for i, t in enumerate(texts):
            t = f"  {t.lower()} "
            for j in range(len(t) - 2):
                out[i, sum(map(ord, t[j:j + 3])) % 64] += 1
        return out


def test_st_model_cosine_similarity_and_batching():
    encoder = HashingEncoder()
    model = st_model(encoder)
    same = float(model({"sentence1": "A cat sat.", "sentence2": "A cat sat."}))
    close = float(model(("A cat sat on the mat.", "A cat sat on a mat.")))
    far = float(model({"sentence1": "A cat sat on the mat.", "sentence2": "Quantum chromodynamics"}))
    assert same == pytest.approx(1.0) and far < close < 1.0
    assert supports_batch(model) and supports_batch(as_callable(model))
    batch = model.batch_generate([("a b", "a b"), ("x", "y")])
    assert encoder.calls == 4 and float(batch[0]) == pytest.approx(1.0)  # one encode call for the batch
    with pytest.raises(DatasetError, match="sentence1"):
        model({"text": "x"})
    with pytest.raises(ConfigError, match="`fields`"):
        st_model(encoder, fields=("a",))


def test_sts_rows_and_local_mteb_dataset(tmp_path, monkeypatch):
    rows = [{"sentence1": "a", "sentence2": "b", "score": 5.0}, {"sentence1": "c", "sentence2": "d", "score": 1.25}]
    problems = sts_rows_to_problems(rows)
    assert [p["score"] for p in problems] == [1.0, 0.25] and problems[1]["answer"] == "0.250000"
    with pytest.raises(DatasetError, match="outside score_range"):
        sts_rows_to_problems([{"sentence1": "a", "sentence2": "b", "score": 7}])
    with pytest.raises(DatasetError, match="lacks"):
        sts_rows_to_problems([{"sentence1": "a"}])
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "sts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert mteb_sts_dataset(str(path)) == problems
