"""The test-case schema and the versioned dataset: ids, versions, changelog, guidelines, save/load."""

from __future__ import annotations

import json

import pytest

from bayesbench.builder import BuilderDataset, Guidelines, Provenance, TestCase
from bayesbench.errors import DatasetError


def _cases() -> list[TestCase]:
    return [
        TestCase(input="What is 2+2?", expected="4", domain="math", difficulty="easy", tags=("arith",)),
        TestCase(input="Capital of France?", references=("Paris", "paris, France"), domain="geo"),
        TestCase(input={"question": "Sum 1..10", "hint": "Gauss"}, expected="55", difficulty=0.3),
    ]


def test_ids_are_content_derived_and_kept_across_edits() -> None:
    a, b = TestCase(input="What is 2+2?"), TestCase(input="What is 2+2?", expected="4")
    assert a.id == b.id and a.id.startswith("c-") and len(a.id) == 14
    assert TestCase(input="What is 2+3?").id != a.id
    ds = BuilderDataset("t", _cases())
    first = ds.ids[0]
    ds.edit(first, expected="four", reason="spelled out")
    assert ds.ids[0] == first and ds[first].expected == "four"
    with pytest.raises(DatasetError, match="assigned once"):
        ds.edit(first, id="x")


def test_exact_duplicate_inputs_get_suffixed_ids_and_explicit_ids_must_be_unique() -> None:
    ds = BuilderDataset("t", [TestCase(input="hi"), TestCase(input="hi"), TestCase(input="hi")])
    base = TestCase(input="hi").id
    assert ds.ids == [base, f"{base}-2", f"{base}-3"]
    with pytest.raises(DatasetError, match="already in dataset"):
        ds.add([TestCase(input="other", id=base)])


def test_version_is_a_content_hash_and_every_change_is_logged() -> None:
    ds1, ds2 = BuilderDataset("a", _cases()), BuilderDataset("b", _cases())
    assert ds1.version == ds2.version and ds1.version.startswith("v-")
    v0 = ds1.version
    ds1.add([TestCase(input="new one")])
    ds1.remove([ds1.ids[0]], reason="off-topic")
    ds1.set_guidelines(Guidelines(task="grade", rubric={"0": "wrong", "1": "right"}, scale="ordinal"))
    actions = [e.action for e in ds1.changelog]
    assert actions == ["add", "remove", "guidelines"]
    assert ds1.changelog[0].version_before == v0 and ds1.changelog[-1].version_after == ds1.version
    assert [e.n_after for e in ds1.changelog] == [4, 3, 3]
    assert len({e.version_after for e in ds1.changelog}) == 3  # each change gave a new version


def test_save_load_round_trip_keeps_everything(tmp_path) -> None:
    g = Guidelines(task="Is the answer right?", criteria=["states the number"], rubric={"0": "wrong", "1": "right"},
                   scale="ordinal", examples=[{"input": "2+2", "label": "1", "rationale": "4"}],
                   edge_cases=["a range counts as wrong"])
    ds = BuilderDataset("demo", _cases(), guidelines=g, description="d", metadata={"owner": "team"})
    ds.edit(ds.ids[1], domain="geography")
    folder = ds.save(tmp_path / "demo")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == ds.version and manifest["n_cases"] == 3 and manifest["counts"]["cases"] == 3
    back = BuilderDataset.load(folder)
    assert back.version == ds.version and back.cases == ds.cases and back.guidelines == g
    assert [e.to_dict() for e in back.changelog] == [e.to_dict() for e in ds.changelog]
    assert BuilderDataset.load(folder / "manifest.json").version == ds.version
    bare = BuilderDataset.load(folder / "cases.jsonl")  # no manifest: same cases, no guidelines
    assert bare.cases == ds.cases and bare.guidelines is None


def test_a_hand_edited_cases_file_is_accepted_and_logged(tmp_path) -> None:
    ds = BuilderDataset("demo", _cases())
    folder = ds.save(tmp_path / "demo")
    lines = (folder / "cases.jsonl").read_text().splitlines()
    row = json.loads(lines[0])
    row["expected"] = "IV"
    (folder / "cases.jsonl").write_text("\n".join([json.dumps(row), *lines[1:]]) + "\n")
    back = BuilderDataset.load(folder)
    assert back.changelog[-1].action == "external-edit" and back.changelog[-1].version_before == ds.version
    assert back.version != ds.version


def test_bad_input_gives_clear_errors(tmp_path) -> None:
    with pytest.raises(DatasetError, match="non-empty"):
        TestCase(input="  ")
    with pytest.raises(DatasetError, match="difficulty"):
        TestCase(input="x", difficulty="impossible")
    with pytest.raises(DatasetError, match="difficulty"):
        TestCase(input="x", difficulty=3)
    with pytest.raises(DatasetError, match="provenance.kind"):
        Provenance(kind="web")
    with pytest.raises(DatasetError, match="not in the rubric"):
        Guidelines(rubric={"0": "no"}, examples=[{"input": "x", "label": "7"}])
    with pytest.raises(DatasetError, match="scale"):
        Guidelines(scale="ratio")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "ok"}\n{"inptu": "typo"}\n')
    with pytest.raises(DatasetError, match=r"bad.jsonl:2 has no `input`"):
        BuilderDataset.load(bad)
    bad.write_text('{"input": "ok"}\nnot json\n')
    with pytest.raises(DatasetError, match=r"bad.jsonl:2: not valid JSON"):
        BuilderDataset.load(bad)
    with pytest.raises(DatasetError, match="does not exist"):
        BuilderDataset.load(tmp_path / "nope")
    with pytest.raises(DatasetError, match="is a folder"):
        BuilderDataset("x", _cases()).save(tmp_path / "out.jsonl")


def test_generated_cases_are_always_synthetic_and_counted() -> None:
    case = TestCase(input="q", provenance=Provenance(kind="generated", source="smollm2"))
    assert case.synthetic and case.to_problem()["synthetic"] is True
    ds = BuilderDataset("t", [case, *_cases()])
    counts = ds.counts()
    assert counts["synthetic"] == 1 and counts["by_source"] == {"generated": 1, "manual": 3}
    assert "4 cases" in ds.summary()


def test_guidelines_markdown_lists_every_part() -> None:
    g = Guidelines(task="Judge it", criteria=["c1"], rubric={"bad": "b", "good": "g"},
                   examples=[{"input": "i", "label": "good"}], edge_cases=["e1"])
    md = g.to_markdown()
    for part in ("Judge it", "- c1", "**good**: g", "i → **good**", "- e1"):
        assert part in md
    assert g.labels == ["bad", "good"] and Guidelines.from_dict(g.to_dict()) == g


def test_problems_are_dicts_the_engine_takes() -> None:
    from bayesbench.engine._dataset import check_dataset

    ds = BuilderDataset("t", _cases())
    problems = check_dataset(ds)
    assert [p["id"] for p in problems] == ds.ids
    assert problems[1]["answers"] == ["Paris", "paris, France"] and problems[0]["answers"] == ["4"]
    with pytest.raises(DatasetError, match="empty"):
        check_dataset(BuilderDataset("empty"))
