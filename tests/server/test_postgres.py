"""post_results and the dashboard against a real PostgreSQL server (the session's private one, tests/_postgres.py):
filing, idempotence, filters, a read-only reader, two writers at once, and `bayesbench serve` over it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bayesbench import BayesianBenchmark
from bayesbench.errors import StoreError
from bayesbench.store import Store
from bayesbench.store._post import run_document

from ._fill import SRC, Served

pytestmark = pytest.mark.timeout(180)
TOKEN = "pg-token-0123456789"


def _compare(seed: int, name: str = "pg-compare"):
    return BayesianBenchmark(confidence=0.95, seed=seed).compare(
        lambda p: p % 5 != 0, lambda p: p % 2 == 0, lambda p, r: float(r), list(range(80)), name=name,
        model_a_name="pg-a", model_b_name="pg-b")


def test_post_results_to_postgres(pg_url: str) -> None:
    result = _compare(1)
    rid = result.post_results(store=pg_url, tags=["nightly"], model_name="pg-a")
    assert result.post_results(store=pg_url, tags=["nightly", "again"], model_name="pg-a") == rid
    store = Store(pg_url)
    rows, total = store.list_runs()
    assert total == 1 and rows[0]["tags"] == ["again", "nightly"] and rows[0]["kind"] == "compare"
    rec = store.run_record(rid)
    assert len(rec["scores"]) == 2 * result.problems_tested and rec["decisions"][-1]["n"] == result.problems_tested
    assert store.list_runs(model="pg-b")[1] == 1 and store.list_runs(kind="rank")[1] == 0

    from bayesbench.benchmarks import BigBenchHard

    suite = BigBenchHard(tasks=["navigate"], n_shots=0, n_problems_per_task=10, seed=0)
    sid = suite.evaluate(lambda prompt: "No", model_name="no-bot", max_concurrency=2).post_results(store=pg_url)
    assert store.run_record(sid)["kind"] == "suite" and len(store.run_record(sid)["items"]) == 10

    reader = Store(pg_url, read_only=True)
    assert reader.list_runs()[1] == 2
    with pytest.raises(StoreError):
        reader.put_posted_run(run_document(_compare(2)))
    assert store.list_runs()[1] == 2


_WRITER = """
import json, sys
from bayesbench import BayesianBenchmark
from bayesbench.store import Store
tag, url, shared = sys.argv[1], sys.argv[2], sys.argv[3]
store = Store(url)
for k, doc in enumerate(json.load(open(shared))):
    r = BayesianBenchmark(confidence=0.95, seed=k).compare(
        lambda p: p % 5 != 0, lambda p: p % 2 == 0, lambda p, x: float(x), list(range(60)), name=tag)
    r.post_results(store=store, tags=[tag])
    store.put_posted_run(dict(doc, tags=["both", tag]))
"""


def test_two_writers_posting_to_postgres_at_once(pg_url: str, tmp_path: Path) -> None:
    docs = [run_document(_compare(10 + k, name="shared")) for k in range(6)]
    shared = tmp_path / "docs.json"
    shared.write_text(json.dumps(docs))
    Store(pg_url).close()  # the schema exists before the writers race
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, tag, pg_url, str(shared)], env=env,
                              stderr=subprocess.PIPE, text=True) for tag in ("w1", "w2")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    store = Store(pg_url)
    assert store.list_runs(task="w1")[1] == 6 and store.list_runs(task="w2")[1] == 6
    rows, total = store.list_runs(task="shared", limit=50)
    assert total == 6 and {r["id"] for r in rows} == {d["id"] for d in docs}
    for row in rows:
        assert row["tags"] == ["both", "w1", "w2"]
        assert len(store.run_record(row["id"])["scores"]) == 2 * row["summary"]["problems_tested"]


def test_serve_over_postgres(pg_url: str) -> None:
    Store(pg_url).close()
    server = Served(pg_url, TOKEN)
    try:
        result = _compare(3, name="served-from-pg")
        rid = result.post_results(url=server.url, token=TOKEN, tags=["pg"])
        listed = httpx.get(server.url + "/api/runs", params={"tag": "pg"}).json()
        assert [r["id"] for r in listed["runs"]] == [rid]
        page = httpx.get(server.url + f"/runs/{rid}")
        assert page.status_code == 200 and "served-from-pg" in page.text and "<svg" in page.text
    finally:
        server.stop()
