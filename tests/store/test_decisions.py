"""One decision row per (run, n): idempotent inserts, a unique index, the v2 -> v3 migration, and two
real processes running the same run at once on one SQLite file (item 12c)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bayesbench.store import SCHEMA_VERSION, Store

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parents[2]


def _duplicates(db: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT run_id, n, COUNT(*) FROM decisions WHERE n IS NOT NULL GROUP BY run_id, n HAVING COUNT(*) > 1"
        ).fetchall()
    finally:
        con.close()


def test_a_decision_is_written_once_per_run_and_n(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    rid = store.start_run("r", {}, 0, [])
    store.record_decision(rid, {"n": 8, "status": "CONTINUE", "note": "first"})
    store.record_decision(rid, {"n": 8, "status": "CONTINUE", "note": "again"})  # a resumed run re-deciding
    store.record_batch(rid, {"p1": {"a": 1.0}}, {"n": 8, "status": "A"})  # scores still land
    store.record_decision(rid, {"n": 16, "status": "A"})
    assert [d["n"] for d in store.decisions(rid)] == [8, 16]
    assert store.decisions(rid)[0]["note"] == "first"
    assert {(s["problem_id"], s["score"]) for s in store.scores(rid)} == {("p1", 1.0)}
    other = store.start_run("r2", {}, 0, [])
    store.record_decision(other, {"n": 8})  # the same n in another run is another decision
    assert len(store.decisions(other)) == 1


def test_migration_from_version_2_drops_duplicate_decisions(tmp_path):
    path = tmp_path / "v2.sqlite"
    Store(path).close()
    con = sqlite3.connect(path)  # make it a version-2 file holding the duplicates v2 let through
    con.execute("DROP INDEX ux_decisions_run_n")
    con.execute("UPDATE schema_version SET version = 2")
    for i, n in enumerate([4, 8, 4, 8, 12, None, None]):
        con.execute("INSERT INTO decisions (run_id, n, payload_json, created) VALUES ('r', ?, ?, ?)",
                    (n, f'{{"n": {n if n is not None else "null"}, "i": {i}}}', float(i)))
    con.commit()
    con.close()
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION == 4
    kept = store.decisions("r")
    assert [(d["n"], d["i"]) for d in kept] == [(4, 0), (8, 1), (12, 4), (None, 5), (None, 6)]
    store.record_decision("r", {"n": 4, "i": 99})
    assert len(store.decisions("r")) == 5
    assert Store(path).schema_version == 4  # reopening does not migrate again


def _twin(db: str, go: str, fail_at: int, *barrier: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
    return subprocess.Popen([sys.executable, "-m", "tests.store._twin_run", db, go, str(fail_at), *barrier],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_identical_runs_started_together_write_each_decision_once(tmp_path):
    db = str(tmp_path / "bb.sqlite")
    first = _twin(db, "-", 30)  # fails at problem 30: the run stays unfinished with its decisions so far
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err[-2000:]
    run_id, resumed, _ = out.split()
    assert resumed == "False" and Store(db).get_run(run_id)["status"] == "running"
    before = len(Store(db).decisions(run_id))
    assert before >= 2
    go = tmp_path / "go"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    # the barrier (in the first live model call) holds each twin until both have opened the run
    twins = [_twin(db, str(go), -1, str(barrier), "2") for _ in range(2)]
    go.touch()
    outs = [p.communicate(timeout=150) for p in twins]
    assert all(p.returncode == 0 for p in twins), [o[1][-2000:] for o in outs]
    results = [o[0].split() for o in outs]
    # both resumed the same unfinished run and re-decided every batch of it, at the same time
    assert [r[:2] for r in results] == [[run_id, "True"], [run_id, "True"]]
    assert results[0][2] == results[1][2] == "60"
    assert _duplicates(db) == []
    ns = [d["n"] for d in Store(db).decisions(run_id)]
    assert ns == sorted(set(ns)) and len(ns) > before
