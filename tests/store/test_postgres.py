"""The same store code against a real PostgreSQL server.

The server fixtures ``pg_socket_dir`` / ``pg_url`` live in tests/_postgres.py (registered for every folder in
tests/conftest.py): a private server on a Unix socket only, skipped where the binaries or psycopg are missing
and failing under CI=true (.ci/run installs Debian's postgresql).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bayesbench.errors import StoreError
from bayesbench.execution import CallRecord, Executor
from bayesbench.store import SCHEMA_VERSION, Store

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parents[2]


def test_postgres_roundtrip(pg_url):
    store = Store(pg_url)
    assert store.schema_version == SCHEMA_VERSION == 4 and not store.is_sqlite
    rid = store.start_run("r", {"api_key": "sk-x", "n": 2}, 3, ["p1", "p2"])
    assert store.find_resumable_run("r", {"n": 2, "api_key": "other"}) == rid
    store.record_call(rid, CallRecord(model="m", problem_id="p1", response="a", attempts=2, cached=False,
                                      tokens_estimated=True, cache_key="ck", input_tokens=4))
    store.put_cached("k", "first", {"model": "m"})
    store.put_cached("k", "second", {"model": "m"})
    assert store.get_cached("k") == ("first", {"model": "m"})
    assert store.get_cached_many(["k", "missing"]) == {"k": ("first", {"model": "m"})}
    store.record_scores(rid, "p1", {"m": 1.0})
    store.record_scores(rid, "p1", {"m": 0.0})
    store.record_decision(rid, {"n": 1, "status": "continue"})
    store.record_decision(rid, {"n": 1, "status": "again"})  # idempotent: (run, n) is written once
    assert store.decisions(rid) == [{"n": 1, "status": "continue"}]
    store.finish_run(rid, {"done": True})
    calls = store.calls(rid)
    assert calls[0]["attempts"] == 2 and calls[0]["cached"] is False and calls[0]["tokens_estimated"] is True
    assert store.scores(rid) == [{"problem_id": "p1", "model": "m", "score": 0.0}]
    run = store.get_run(rid)
    assert run["status"] == "finished" and run["config"]["api_key"] == "<redacted>"
    assert Store(pg_url).schema_version == 4  # reopening finds the schema


def test_postgres_cache_serves_a_rerun(pg_url):
    asked: list[str] = []

    def model(p: str) -> str:
        asked.append(p)
        return p[::-1]

    async def run_once():
        ex = Executor(store=Store(pg_url), max_concurrency=4)
        try:
            return await asyncio.gather(*(ex.call("m", model, f"q{i}") for i in range(20)))
        finally:
            ex.close()

    first = asyncio.run(run_once())
    second = asyncio.run(run_once())
    assert len(asked) == 20 and all(r.cached for r in second)
    assert [str(r.response) for r in second] == [str(r.response) for r in first]


def test_postgres_two_processes_writing_at_once(pg_url, tmp_path):
    go = tmp_path / "go"
    n = 60
    Store(pg_url).close()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.store._hammer", pg_url, tag, str(n), str(go)], cwd=ROOT,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("p", "q")
    ]
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    store = Store(pg_url)
    assert len(store.calls()) == 2 * n and store.cache_size() == 3 * n


def test_postgres_wrong_database_is_a_store_error(pg_socket_dir):
    d, _ = pg_socket_dir
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(f"postgresql+psycopg://bb@/no_such_db?host={d}")
