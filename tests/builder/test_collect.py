"""Collection from JSONL/CSV logs with a field mapping, expert files, and local Hugging Face datasets."""

from __future__ import annotations

import importlib.util
import json

import pytest

from bayesbench.builder import BuilderDataset, collect_expert, collect_hf, collect_logs
from bayesbench.errors import DatasetError
from tests._shared import require_or_skip


def _write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_jsonl_log_with_mapping_nested_fields_and_metadata(tmp_path) -> None:
    log = tmp_path / "queries.jsonl"
    _write_jsonl(log, [
        {"request": {"text": "How do I reset my password?"}, "gold": "Settings > Security", "user": "u1", "ts": 1},
        {"request": {"text": "Cancel my plan"}, "gold": None, "user": "u2", "ts": 2},
    ])
    cases = collect_logs(log, fields={"input": "request.text", "expected": "gold"}, domain="support", tags=["v1"])
    assert [c.input for c in cases] == ["How do I reset my password?", "Cancel my plan"]
    assert cases[0].expected == "Settings > Security" and cases[1].expected is None
    assert cases[0].metadata == {"user": "u1", "ts": 1} and cases[0].domain == "support" and cases[0].tags == ("v1",)
    assert cases[1].provenance.kind == "log" and cases[1].provenance.location == 2
    assert cases[1].provenance.source == str(log) and not cases[1].synthetic


def test_csv_log_guesses_the_input_and_splits_lists(tmp_path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("question,references,tags,difficulty\nWhat is 2+2?,4|four,math|easy,easy\n"
                   "Capital of Peru?,Lima,geo,0.4\n", encoding="utf-8")
    cases = collect_expert(log)
    assert cases[0].input == "What is 2+2?" and cases[0].references == ("4", "four")
    assert cases[0].tags == ("math", "easy") and cases[1].difficulty == 0.4
    assert cases[1].provenance.kind == "expert" and cases[1].provenance.location == 3  # header is line 1
    assert cases[0].answers == ("4", "four")


def test_missing_fields_name_the_line(tmp_path) -> None:
    log = tmp_path / "q.jsonl"
    _write_jsonl(log, [{"query": "ok"}, {"query": "fine"}, {"qeury": "typo"}])
    with pytest.raises(DatasetError, match=r"q.jsonl:3: the input field 'query' is missing \(fields found: qeury\)"):
        collect_logs(log, fields={"input": "query"})
    with pytest.raises(DatasetError, match=r"no input field.*fields found: a, b"):
        _write_jsonl(log, [{"a": 1, "b": 2}])
        collect_logs(log)
    _write_jsonl(log, [{"query": "a", "answer": "x"}])
    with pytest.raises(DatasetError, match=r"expected='anwser'.* in no record"):
        collect_logs(log, fields={"input": "query", "expected": "anwser"})
    with pytest.raises(DatasetError, match="unknown test-case field"):
        collect_logs(log, fields={"inputs": "query"})
    log.write_text('{"query": "a"}\n{broken\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"q.jsonl:2: not valid JSON"):
        collect_logs(log)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("query\nfine\n  \n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.csv:3: the input field 'query' is empty"):
        collect_logs(bad_csv)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(DatasetError, match="unknown file type"):
        collect_logs(tmp_path / "x.txt")
    with pytest.raises(DatasetError, match="does not exist"):
        collect_logs(tmp_path / "nope.jsonl")


def test_chat_transcripts_and_values_that_are_not_json(tmp_path) -> None:
    from bayesbench.builder._collect import cases_from_records

    log = tmp_path / "chat.jsonl"
    _write_jsonl(log, [{"messages": [{"role": "user", "content": "Hi, where is my parcel?"}]}])
    case = collect_logs(log, fields={"input": "messages"})[0]
    assert json.loads(case.input) == [{"role": "user", "content": "Hi, where is my parcel?"}]
    assert collect_logs(log, fields={"input": "messages.0.content"})[0].input == "Hi, where is my parcel?"
    with pytest.raises(DatasetError, match=r"src row 0: .*JSON-serialisable.*keep_unmapped=False"):
        cases_from_records(iter([(0, {"input": "q", "blob": object()})]), source="src", kind="hf")
    assert cases_from_records(iter([(0, {"input": "q", "blob": object()})]), source="src", kind="hf",
                              keep_unmapped=False)[0].metadata == {}


def test_collected_cases_build_a_dataset_with_stable_ids(tmp_path) -> None:
    log = tmp_path / "q.jsonl"
    _write_jsonl(log, [{"query": "a question"}, {"query": "a question"}, {"query": "another"}])
    ds1 = BuilderDataset("d", collect_logs(log))
    ds2 = BuilderDataset("d", collect_logs(log))
    assert ds1.ids == ds2.ids and len(set(ds1.ids)) == 3 and ds1.version == ds2.version


def test_hf_local_datasets_offline(tmp_path, monkeypatch) -> None:
    require_or_skip(importlib.util.find_spec("datasets") is not None, 'needs datasets: pip install "bayesbench[datasets]"')
    import datasets
    import huggingface_hub.constants

    # the flags are read at import time, and another test may have imported them already
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved = tmp_path / "saved"
    datasets.Dataset.from_dict({"prompt": ["q1", "q2", "q3"], "target": ["a1", "a2", "a3"],
                                "level": ["easy", "hard", "easy"]}).save_to_disk(str(saved))
    cases = collect_hf(saved, fields={"input": "prompt", "expected": "target", "difficulty": "level"}, limit=2)
    assert [c.input for c in cases] == ["q1", "q2"] and cases[1].difficulty == "hard"
    assert cases[0].provenance.kind == "hf" and cases[0].provenance.location == 0
    raw = tmp_path / "raw.jsonl"
    _write_jsonl(raw, [{"question": "x?", "answer": "y"}])
    from_json = collect_hf("json", data_files=str(raw), fields={"expected": "answer"})
    assert from_json[0].input == "x?" and from_json[0].expected == "y"
    with pytest.raises(DatasetError, match="cannot load Hugging Face dataset"):
        collect_hf("no-such-org/no-such-dataset-xyz")
    dd = tmp_path / "dd"
    datasets.DatasetDict({"test": datasets.Dataset.from_dict({"input": ["t"]})}).save_to_disk(str(dd))
    assert collect_hf(dd, split="test")[0].input == "t"
    with pytest.raises(DatasetError, match="no split 'train'"):
        collect_hf(dd)
