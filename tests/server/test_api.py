"""The JSON API and the pages over HTTP, against `bayesbench serve` in a real subprocess over a real store:
listing with filters and pagination, posting with a token, escaping, secrets, read-only pages, binding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from bayesbench import BayesianBenchmark
from bayesbench.errors import StoreError
from bayesbench.store import Store
from bayesbench.store._post import run_document

from ._fill import EVIL_NAME, KEY, SRC, XSS, Served
from .conftest import TOKEN

pytestmark = pytest.mark.timeout(180)


def _small_result(seed: int = 5):
    bench = BayesianBenchmark(confidence=0.95, seed=seed)
    return bench.compare(lambda p: p % 4 != 0, lambda p: p % 2 == 0, lambda p, r: float(r), list(range(80)),
                         name="posted-over-http", model_a_name="http-a", model_b_name="http-b")


def test_list_filters_and_pagination(served: Served, filled: dict) -> None:
    everything = httpx.get(served.url + "/api/runs", params={"limit": 500}).json()
    total = everything["total"]
    assert total >= 7 and len(everything["runs"]) == total and everything["next_offset"] is None
    ids = [r["id"] for r in everything["runs"]]
    assert filled["compare"] in ids and filled["rank"] in ids and set(filled["suites"]) <= set(ids)
    first = httpx.get(served.url + "/api/runs", params={"limit": 2}).json()
    second = httpx.get(served.url + "/api/runs", params={"limit": 2, "offset": 2}).json()
    assert [r["id"] for r in first["runs"] + second["runs"]] == ids[:4] and first["next_offset"] == 2
    created = [r["created"] for r in everything["runs"]]
    assert created == sorted(created, reverse=True)  # newest first

    def count(**params: str) -> int:
        return httpx.get(served.url + "/api/runs", params=params).json()["total"]

    assert count(model="always-yes") == 1 and count(tag="bbh") == 2 and count(task="addition") == 1
    assert count(kind="rank") == 1 and count(kind="suite") == 3 and count(tag="nightly", model="good-model") == 1
    assert count(kind="monitor") == 10  # the monitor's baseline and 9 scheduled runs (journaled, not posted)
    assert count(since="2000-01-01") == total and count(until="2000-01-01") == 0
    bad = httpx.get(served.url + "/api/runs", params={"since": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]
    assert httpx.get(served.url + "/api/runs", params={"limit": 0}).status_code == 422
    row = next(r for r in everything["runs"] if r["id"] == filled["rank"])
    assert row["name"] == "arith-ranking" and row["headline"]["verdict"].startswith("strong >")


def test_one_run_and_a_missing_one(served: Served, filled: dict) -> None:
    run = httpx.get(served.url + f"/api/runs/{filled['compare']}").json()
    result = filled["compare_result"]
    assert run["summary"]["winner_name"] == result.winner_name and run["tags"] == ["nightly", "v2.1"]
    assert len(run["scores"]) == 2 * result.problems_tested and run["decisions"][-1]["n"] == result.problems_tested
    missing = httpx.get(served.url + "/api/runs/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    assert httpx.get(served.url + "/runs/nope").status_code == 404


def test_posting_needs_the_token(served: Served) -> None:
    doc = run_document(_small_result(), tags=["http"])
    url = served.url + "/api/runs"
    assert httpx.post(url, json=doc).status_code == 401
    assert httpx.post(url, json=doc, headers={"Authorization": "Bearer wrong-token-123"}).status_code == 401
    assert httpx.post(url, json=doc, headers={"Authorization": TOKEN}).status_code == 401  # no "Bearer "
    assert httpx.get(served.url + f"/api/runs/{doc['id']}").status_code == 404  # nothing was written
    ok = httpx.post(url, json=doc, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 201 and ok.json()["id"] == doc["id"]
    bad = httpx.post(url, content=b"{not json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400
    wrong = httpx.post(url, json={"format": "other"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert wrong.status_code == 400 and "format" in wrong.json()["error"]
    for field, value, message in (("decisions", [{"n": "x"}], "integer `n`"), ("items", [{"answer": 3}], "strings"),
                                  ("summary", [1, 2], "object or null"), ("tags", [""], "non-empty strings"),
                                  ("scores", [{"problem_id": "p", "model": "m", "score": "nan"}], "finite number")):
        r = httpx.post(url, json=dict(doc, id="bad-" + field, **{field: value}),
                       headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 400 and message in r.json()["error"], (field, r.text)
        assert httpx.get(served.url + f"/api/runs/bad-{field}").status_code == 404


def test_post_results_through_the_server_is_idempotent(served: Served) -> None:
    result = _small_result(seed=6)
    rid = result.post_results(url=served.url, token=TOKEN, tags=["via-http"])
    assert result.post_results(url=served.url, token=TOKEN, tags=["via-http", "again"]) == rid
    run = httpx.get(served.url + f"/api/runs/{rid}").json()
    assert run["tags"] == ["again", "via-http"] and len(run["scores"]) == 2 * result.problems_tested
    assert httpx.get(served.url + "/api/runs", params={"tag": "via-http"}).json()["total"] == 1
    with pytest.raises(StoreError, match="refused the token"):
        result.post_results(url=served.url, token="not-the-token")


def test_two_clients_posting_at_once(served: Served) -> None:
    docs = [run_document(_small_result(seed=100 + k), tags=["race"]) for k in range(6)]
    errors: list[BaseException] = []

    def post_all(order: list[dict]) -> None:
        try:
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
                for d in order:
                    assert client.post(served.url + "/api/runs", json=d).status_code == 201
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=post_all, args=(docs,)), threading.Thread(target=post_all, args=(docs[::-1],))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    listed = httpx.get(served.url + "/api/runs", params={"tag": "race", "limit": 50}).json()
    assert sorted(r["id"] for r in listed["runs"]) == sorted(d["id"] for d in docs)


def test_posting_is_disabled_without_a_server_token(filled: dict, tmp_path: Path) -> None:
    import shutil

    copy = str(tmp_path / "copy.sqlite")
    shutil.copy(filled["path"], copy)
    server = Served(copy, None)
    try:
        r = httpx.post(server.url + "/api/runs", json={}, headers={"Authorization": "Bearer anything-at-all"})
        assert r.status_code == 403 and "--token" in r.json()["error"]
    finally:
        server.stop()


def test_hostile_text_is_escaped_and_keys_never_shown(served: Served, filled: dict) -> None:
    doc = run_document(_small_result(seed=9))
    doc["config"] = {"note": f"header was Bearer {KEY}", "openai_api_key": KEY, "nested": {"password": "hunter22"}}
    doc["summary"]["model_a_name"] = EVIL_NAME
    assert httpx.post(served.url + "/api/runs", json=doc, headers={"Authorization": f"Bearer {TOKEN}"}).status_code \
        == 201
    pages = ["/runs", f"/runs/{filled['compare']}", f"/runs/{doc['id']}", "/rankings", "/monitors",
             f"/compare?a={filled['compare']}&b={doc['id']}", "/history", "/runs?model=" + EVIL_NAME]
    for path in pages:
        r = httpx.get(served.url + path)
        assert r.status_code == 200, path
        html = r.text
        assert KEY not in html and "hunter22" not in html and TOKEN not in html, path
        assert "<script>" not in html and "<img src=x" not in html and "<b onmouseover" not in html, path
        assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none': no script at all
        assert r.headers["x-content-type-options"] == "nosniff"
    run_page = httpx.get(served.url + f"/runs/{filled['compare']}").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in run_page  # shown as text, escaped
    assert "&lt;b onmouseover=" in run_page and "&lt;redacted&gt;" in run_page  # the key in the answer: masked
    api = httpx.get(served.url + f"/api/runs/{doc['id']}")
    assert api.headers["content-type"].startswith("application/json")
    assert KEY not in api.text and "hunter22" not in api.text
    items = httpx.get(served.url + f"/api/runs/{filled['compare']}").json()["items"]
    assert any(XSS in (i.get("answer") or "") for i in items)  # the API gives the data as it is (JSON, not HTML)


def test_pages_cannot_write_and_other_hosts_are_refused(served: Served, filled: dict) -> None:
    before = Store(filled["path"]).list_runs(limit=1)[1]
    for path in ["/runs?task=x'); DROP TABLE runs; --", "/runs/x' OR '1'='1",
                 "/api/runs?model=%27%3B+DELETE+FROM+runs"]:
        assert httpx.get(served.url + path).status_code in (200, 404)
    assert Store(filled["path"]).list_runs(limit=1)[1] == before
    r = httpx.get(served.url + "/runs", headers={"Host": "evil.example"})
    assert r.status_code == 400  # DNS rebinding: only the loopback names are accepted
    assert httpx.post(served.url + "/runs", json={}).status_code == 405


def _serve_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("BAYESBENCH_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bayesbench.cli", "serve", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_binding_anywhere_needs_a_flag_and_a_token(tmp_path: Path) -> None:
    store = str(tmp_path / "b.sqlite")
    r = _serve_cli("--store", store, "--host", "0.0.0.0")
    assert r.returncode == 2 and "--allow-remote" in r.stderr
    r = _serve_cli("--store", store, "--host", "0.0.0.0", "--allow-remote")
    assert r.returncode == 2 and "needs a token" in r.stderr
    r = _serve_cli("--store", store, "--token", "short")
    assert r.returncode == 2 and "at least 8 characters" in r.stderr
    help_text = _serve_cli("--help")
    assert help_text.returncode == 0 and "127.0.0.1" in help_text.stdout


def test_the_api_answers_monitors(served: Served, filled: dict) -> None:
    mons = httpx.get(served.url + "/api/monitors").json()["monitors"]
    assert [m["name"] for m in mons] == ["nightly-addition"] and mons[0]["checks"] == 9 and mons[0]["alerts"] >= 1
    view = httpx.get(served.url + "/api/monitors/nightly-addition").json()
    panel = view["panels"][0]
    assert panel["metric"] == "score" and len(panel["points"]) == 9
    assert not any(p["alert"] for p in panel["points"][:5])  # the unchanged model's checks never alerted
    assert panel["points"][-1]["alert"] and json.dumps(view).count(KEY) == 0
    assert httpx.get(served.url + "/api/monitors/none").status_code == 404
