"""The store on real SQLite files: schema, migration, runs, cache, scores, two writing processes."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from bayesbench.errors import ConfigError, MissingDependencyError, StoreError
from bayesbench.execution import CallRecord
from bayesbench.store import SCHEMA_VERSION, Store, _schema, redact_secrets

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]

# The schema as version 1 shipped it (calls had no cache_key / tokens_estimated columns).
V1_DDL = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE runs (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, created FLOAT NOT NULL,
  config_json TEXT NOT NULL, config_hash VARCHAR(64) NOT NULL, seed INTEGER, rule VARCHAR(255),
  status VARCHAR(32) NOT NULL, order_json TEXT NOT NULL, summary_json TEXT, finished FLOAT);
CREATE TABLE calls (id INTEGER PRIMARY KEY, run_id VARCHAR(64), model VARCHAR(255) NOT NULL,
  problem_id VARCHAR(255) NOT NULL, prompt_hash VARCHAR(64), latency_s FLOAT, ttft_s FLOAT,
  input_tokens INTEGER, output_tokens INTEGER, cost_usd FLOAT, attempts INTEGER, error TEXT,
  error_type VARCHAR(255), cached BOOLEAN NOT NULL, created FLOAT NOT NULL);
CREATE TABLE responses (key VARCHAR(64) PRIMARY KEY, model VARCHAR(255) NOT NULL, response TEXT NOT NULL,
  meta_json TEXT NOT NULL, created FLOAT NOT NULL);
CREATE TABLE scores (run_id VARCHAR(64) NOT NULL, problem_id VARCHAR(255) NOT NULL, model VARCHAR(255) NOT NULL,
  score FLOAT NOT NULL, created FLOAT NOT NULL, PRIMARY KEY (run_id, problem_id, model));
CREATE TABLE decisions (id INTEGER PRIMARY KEY, run_id VARCHAR(64) NOT NULL, n INTEGER, status VARCHAR(64),
  log_evalues_json TEXT, cs_json TEXT, payload_json TEXT NOT NULL, created FLOAT NOT NULL);
INSERT INTO runs VALUES ('old-run', 'legacy', 1.0, '{"x":1}', 'h', 3, NULL, 'finished', '["a"]', NULL, 2.0);
INSERT INTO calls (run_id, model, problem_id, prompt_hash, latency_s, attempts, cached, created)
  VALUES ('old-run', 'm', 'a', 'ph', 0.5, 1, 0, 1.5);
INSERT INTO responses VALUES ('k-old', 'm', 'old answer', '{"kind":"text","input_tokens":3}', 1.0);
"""


def test_fresh_store_has_the_schema_and_wal(tmp_path):
    path = tmp_path / "bb.sqlite"
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION == 4
    con = sqlite3.connect(path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"schema_version", "runs", "calls", "responses", "scores", "decisions"} <= tables
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = {r[1] for r in con.execute("PRAGMA table_info(calls)")}
    assert {"cache_key", "tokens_estimated", "prompt_hash", "cost_usd", "cached"} <= cols


def test_migration_from_version_1_keeps_the_data(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(V1_DDL)
    con.close()
    store = Store(path)
    assert store.schema_version == 4
    old = store.calls("old-run")
    assert len(old) == 1 and old[0]["problem_id"] == "a" and old[0]["cache_key"] is None
    assert store.get_cached("k-old") == ("old answer", {"kind": "text", "input_tokens": 3})
    store.record_call("old-run", CallRecord(model="m", problem_id="b", cache_key="ck", tokens_estimated=True))
    new = store.calls("old-run")[1]
    assert new["cache_key"] == "ck" and new["tokens_estimated"]
    assert Store(path).schema_version == 4  # reopening does not migrate twice
    assert [r["id"] for r in store.runs()] == ["old-run"]


def test_newer_or_foreign_databases_are_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version 99, newer than this bayesbench understands"):
        Store(path)
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE schema_version (version INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a bayesbench store"):
        Store(other)


def test_bad_locations(tmp_path):
    with pytest.raises(ConfigError, match="in-memory"):
        Store(":memory:")
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing-dir" / "bb.sqlite")


def test_run_lifecycle_and_resume_lookup(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    cfg = {"models": ["a", "b"], "confidence": 0.95, "rule": "e-process", "api_key": "sk-x"}
    rid = store.start_run("mmlu", cfg, 42, ["p3", "p1", "p2"])
    # same config in another key order (and another API key) resumes; another config does not
    same = {"confidence": 0.95, "api_key": "sk-y", "rule": "e-process", "models": ["a", "b"]}
    assert store.find_resumable_run("mmlu", same) == rid
    assert store.find_resumable_run("mmlu", dict(cfg, confidence=0.9)) is None
    assert store.find_resumable_run("gsm8k", cfg) is None
    run = store.get_run(rid)
    assert run["status"] == "running" and run["seed"] == 42 and run["order"] == ["p3", "p1", "p2"]
    assert run["rule"] == "e-process" and run["config"]["api_key"] == "<redacted>"
    store.finish_run(rid, {"winner": "a", "n": 17})
    assert store.find_resumable_run("mmlu", cfg) is None
    assert store.get_run(rid)["summary"] == {"winner": "a", "n": 17}
    with pytest.raises(StoreError, match="no run with id 'nope'"):
        store.finish_run("nope", {})
    with pytest.raises(ConfigError, match="`status` must be one of"):
        store.finish_run(rid, {}, status="done")
    with pytest.raises(StoreError, match="JSON-serialisable"):
        store.start_run("x", {"f": object()}, 0, [])


def test_calls_scores_decisions_roundtrip(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    rid = store.start_run("r", {}, 0, ["p1", "p2"])
    rec = CallRecord(model="a", problem_id="p1", response="x", latency_s=0.25, attempts=2, input_tokens=10,
                     output_tokens=3, cost_usd=1e-5, prompt_hash="ph", ttft_s=0.05)
    store.record_call(rid, rec)
    store.record_call(rid, CallRecord(model="b", problem_id="p1", error="boom", error_type="ValueError", attempts=3))
    calls = store.calls(rid)
    assert [(c["model"], c["attempts"], c["error"]) for c in calls] == [("a", 2, None), ("b", 3, "boom")]
    assert calls[0]["input_tokens"] == 10 and calls[0]["ttft_s"] == 0.05 and calls[0]["cached"] is False
    store.record_scores(rid, "p1", {"a": 1.0, "b": 0.0})
    store.record_scores(rid, "p1", {"b": True})  # re-scoring replaces
    store.record_scores(rid, "p2", {"a": 0.5})
    got = {(s["problem_id"], s["model"]): s["score"] for s in store.scores(rid)}
    assert got == {("p1", "a"): 1.0, ("p1", "b"): 1.0, ("p2", "a"): 0.5}
    with pytest.raises(StoreError, match="finite number"):
        store.record_scores(rid, "p3", {"a": float("nan")})
    d = {"n": 2, "status": "continue", "log_evalues": {"a>b": 0.7}, "cs": [[0.1, 0.9]], "note": "x"}
    store.record_decision(rid, d)
    assert store.decisions(rid) == [d]
    store.put_cached("k", "first", {"model": "a"})
    store.put_cached("k", "second", {"model": "a"})  # first write wins
    assert store.get_cached("k") == ("first", {"model": "a"}) and store.get_cached("nope") is None


def test_redact_secrets():
    cfg = {"api_key": "s", "OPENAI_API_KEY": "s", "max_tokens": 5, "nested": [{"access_token": "s", "token": "s"}],
           "input_tokens": 3, "headers": {"Authorization": "Bearer s", "x-api-key": "s"}, "key": "s", "none": None}
    out = redact_secrets(cfg)
    assert '"s"' not in json.dumps(out) and out["max_tokens"] == 5 and out["input_tokens"] == 3
    assert json.dumps(out).count("<redacted>") == 7 and out["none"] is None


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    db = str(tmp_path / "bb.sqlite")
    Store(db).close()
    go = tmp_path / "go"
    n = 250
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.store._hammer", db, tag, str(n), str(go)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("p", "q")
    ]
    go.touch()
    outs = [p.communicate(timeout=100) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    store = Store(db)
    calls = store.calls()
    assert len(calls) == 2 * n
    assert {(c["model"], c["problem_id"]) for c in calls} == {(t, str(i)) for t in "pq" for i in range(n)}
    assert store.cache_size() == 3 * n  # n shared keys (one winner each) + n own per process
    for tag in "pq":
        rid = outs["pq".index(tag)][0].strip()
        assert len(store.scores(rid)) == n and store.get_run(rid)["status"] == "finished"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_postgres_url_goes_through_the_same_code():
    # The DDL compiles for Postgres ...
    for table in _schema.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
        assert ddl.startswith("\nCREATE TABLE " + table.name)
    # ... the engine is built with the psycopg driver, and with no server the error says so
    # without leaking the password.
    with pytest.raises(StoreError) as info:
        Store(f"postgresql+psycopg://bb:hunter2@127.0.0.1:{_closed_port()}/bb")
    msg = str(info.value)
    assert "cannot open the store" in msg and "hunter2" not in msg and "***" in msg
    # A driver that is not installed gives the install line.
    with pytest.raises(MissingDependencyError, match=r'pip install "bayesbench\[postgres\]"'):
        Store("postgresql+pg8000://bb@127.0.0.1/bb")
