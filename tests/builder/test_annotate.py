"""Annotation projects: balanced seeded assignment, labels saved as submitted, JSONL/CSV exchange, progress."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from bayesbench.builder import BuilderDataset, Guidelines, TestCase
from bayesbench.builder._annotate import AnnotationProject, assign_items
from bayesbench.errors import ConfigError, DatasetError

GUIDE = Guidelines(task="Is the answer helpful?", rubric={"bad": "unhelpful", "ok": "partly", "good": "helpful"},
                   scale="ordinal", criteria=["answers the question"])


def _cases(n: int) -> list[TestCase]:
    return [TestCase(input=f"question number {i}", references=(f"answer {i}",)) for i in range(n)]


@pytest.mark.parametrize("n_items, annotators, overlap", [(10, 3, 2), (17, 5, 3), (7, 4, 1), (12, 3, 3)])
def test_assignment_is_balanced_with_exact_overlap(n_items, annotators, overlap):
    ids = [f"i{k}" for k in range(n_items)]
    names = [f"a{k}" for k in range(annotators)]
    plan = assign_items(ids, names, overlap=overlap, seed=3)
    per_item = Counter(i for items in plan.values() for i in items)
    assert set(per_item) == set(ids) and set(per_item.values()) == {overlap}
    assert all(len(set(v)) == len(v) for v in plan.values())  # nobody labels an item twice
    loads = [len(v) for v in plan.values()]
    assert max(loads) - min(loads) <= 1 and sum(loads) == n_items * overlap
    assert assign_items(ids, names, overlap=overlap, seed=3) == plan
    assert assign_items(ids, names, overlap=overlap, seed=4) != plan


def test_assignment_errors():
    with pytest.raises(ConfigError, match="`overlap` must be at most"):
        assign_items(["x"], ["a", "b"], overlap=3)
    with pytest.raises(ConfigError, match="distinct names"):
        assign_items(["x"], ["a", "a"])
    with pytest.raises(ConfigError, match="`overlap`"):
        assign_items(["x"], ["a"], overlap=0)


def test_project_submit_progress_and_agreement(tmp_path):
    ds = BuilderDataset("helpful", _cases(6), guidelines=GUIDE)
    path = tmp_path / "round1.sqlite"
    proj = AnnotationProject.create(path, ds, annotators=["ann", "bob", "cy"], overlap=2, seed=1)
    assert proj.labels == ["bad", "ok", "good"] and proj.guidelines == GUIDE
    assert [p.assigned for p in proj.progress()] == [4, 4, 4]
    first = proj.next_item("ann")
    proj.submit("ann", first, "good", note="clear")
    assert proj.next_item("ann") != first
    assert {p.annotator: p.done for p in proj.progress()} == {"ann": 1, "bob": 0, "cy": 0}
    proj.submit("ann", first, "ok")  # a correction replaces the label
    assert [(r["item_id"], r["label"]) for r in proj.records()] == [(first, "ok")]
    with pytest.raises(ConfigError, match="`label` must be one of"):
        proj.submit("ann", first, "great")
    with pytest.raises(ConfigError, match="unknown annotator"):
        proj.submit("dan", first, "ok")
    not_mine = next(i for i in proj.item_ids() if i not in proj.assignment("ann"))
    with pytest.raises(ConfigError, match="not assigned"):
        proj.submit("ann", not_mine, "ok")
    for a in proj.annotators:
        while (item := proj.next_item(a)) is not None:
            proj.submit(a, item, "good" if int(proj.item(item)["text"].split()[-1]) % 2 else "bad")
    assert all(p.fraction == 1.0 for p in proj.progress())
    rep = proj.agreement(n_boot=50)
    assert rep.level_of_measurement == "ordinal"
    assert "ann: 4/4 done (100%)" in proj.summary()
    proj.close()


def test_labels_survive_a_killed_process(tmp_path):
    """A label acknowledged by submit() is on disk: a child process submits, then is killed with SIGKILL."""
    path = tmp_path / "crash.sqlite"
    AnnotationProject.create(path, _cases(4), annotators=["ann"], overlap=1, labels=["no", "yes"]).close()
    code = textwrap.dedent(f"""
        import os, signal, sys
        from bayesbench.builder._annotate import AnnotationProject
        p = AnnotationProject.open({str(path)!r})
        for label in ("yes", "no"):
            p.submit("ann", p.next_item("ann"), label)
        print("submitted", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == -9 and "submitted" in out.stdout
    conn = sqlite3.connect(path)  # read the file itself, not through the class
    assert [r[0] for r in conn.execute("SELECT label FROM labels ORDER BY created_at")] == ["yes", "no"]
    conn.close()


def test_export_import_round_trip_jsonl_and_csv(tmp_path):
    items = [{"id": f"t{i}", "text": f"text {i}"} for i in range(5)]
    src = AnnotationProject.create(tmp_path / "a.sqlite", items, annotators=["x", "y"], overlap=2,
                                   labels=["neg", "pos"], seed=2)
    for a in ("x", "y"):
        for item in src.assignment(a):
            src.submit(a, item, "pos" if item != "t3" else "neg", note="fine, \"quoted\"")
    for suffix in (".jsonl", ".csv"):
        out = src.export(tmp_path / f"labels{suffix}")
        dst = AnnotationProject.create(tmp_path / f"b{suffix}.sqlite", items, annotators=["x", "y"], overlap=2,
                                       labels=["neg", "pos"], seed=2)
        assert dst.import_labels(out) == 10
        strip = lambda rs: sorted((r["item_id"], r["annotator"], r["label"], r["note"]) for r in rs)
        assert strip(dst.records()) == strip(src.records())
        assert [p.done for p in dst.progress()] == [5, 5]
    rows = list(csv.DictReader(open(tmp_path / "labels.csv", encoding="utf-8")))
    assert set(rows[0]) == {"item_id", "annotator", "label", "note", "created_at"}
    assert json.loads((tmp_path / "labels.jsonl").read_text().splitlines()[0])["note"] == 'fine, "quoted"'


def test_import_checks_every_row_before_saving(tmp_path):
    proj = AnnotationProject.create(tmp_path / "p.sqlite", [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
                                    annotators=["x"], overlap=1, labels=["n", "y"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"item_id": "a", "annotator": "x", "label": "y"}\n{"item_id": "b", "annotator": "x", "label": "maybe"}\n')
    with pytest.raises(DatasetError, match="row 2: label 'maybe'"):
        proj.import_labels(bad)
    assert proj.records() == []  # nothing half-imported
    with pytest.raises(ConfigError, match="already exists"):
        AnnotationProject.create(tmp_path / "p.sqlite", [{"id": "a", "text": "A"}], annotators=["x"], labels=["n", "y"])
    with pytest.raises(DatasetError, match="no annotation project"):
        AnnotationProject.open(tmp_path / "missing.sqlite")
    with pytest.raises(ConfigError, match="`labels`"):
        AnnotationProject.create(tmp_path / "q.sqlite", [{"id": "a", "text": "A"}], annotators=["x"])
    assert Path(tmp_path / "q.sqlite").exists() is False


def test_missing_web_stack_names_the_extra(monkeypatch, tmp_path):
    from bayesbench.builder._annotate_app import annotation_router
    from bayesbench.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "fastapi", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "bayesbench\[builder\]"'):
        annotation_router(tmp_path / "whatever.sqlite")


def test_ratings_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    from bayesbench.builder._agreement import krippendorff_alpha

    df = pd.DataFrame({"ann": ["a", "b", "a", None], "bob": ["a", "b", "b", "a"]}, index=["i1", "i2", "i3", "i4"])
    res = krippendorff_alpha(df, n_boot=0)
    assert res.n_items == 3 and res.n_annotators == 2  # i4 has one label only
