"""post_results on every result kind, into real SQLite files: what is filed, idempotence, two writers at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bayesbench import BayesianBenchmark, BayesianRanker
from bayesbench.errors import ConfigError, StoreError
from bayesbench.store import Store

from ._fill import KEY, SRC

pytestmark = pytest.mark.timeout(120)


def _compare(store: str | None = None, seed: int = 0, n: int = 120):
    problems = list(range(n))
    bench = BayesianBenchmark(confidence=0.95, seed=seed, store=store)
    return bench.compare(lambda p: p % 5 != 0, lambda p: p % 2 == 0, lambda p, r: float(r), problems,
                         name="parity", model_a_name="m-strong", model_b_name="m-weak")


def test_a_comparison_is_filed_with_scores_path_usage_and_tags(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    result = _compare()
    rid = result.post_results(store=path, tags=["nightly", "v2.1"], model_name="m-strong")
    assert rid == result.post_results(store=path, tags=["v2.1", "rerun"], model_name="m-strong")  # filed once
    store = Store(path)
    rows, total = store.list_runs()
    assert total == 1 and rows[0]["id"] == rid and rows[0]["kind"] == "compare"
    assert rows[0]["tags"] == ["nightly", "rerun", "v2.1"] and rows[0]["models"] == ["m-strong", "m-weak"]
    rec = store.run_record(rid)
    n = result.problems_tested
    assert len(rec["scores"]) == 2 * n  # one per item and side, not doubled by the second post
    by_side = {(s["problem_id"], s["model"]): s["score"] for s in rec["scores"]}
    for pid, a, b in zip(result.problem_order, result.scores_a, result.scores_b):
        assert by_side[(str(pid), "model_a")] == a and by_side[(str(pid), "model_b")] == b
    assert [d["n"] for d in rec["decisions"]] == result.stopping_path.n and rec["decisions"][-1]["n"] == n
    assert rec["summary"]["winner_name"] == result.winner_name and rec["model_name"] == "m-strong"
    assert rec["usage"]["models"].keys() == {"m-strong", "m-weak"}
    assert store.list_runs(model="m-weak")[1] == 1 and store.list_runs(tag="rerun")[1] == 1
    assert store.list_runs(tag="absent")[1] == 0 and store.list_runs(task="parity")[1] == 1


def test_a_journaled_run_posted_to_its_own_store_is_not_duplicated(tmp_path: Path) -> None:
    path = str(tmp_path / "j.sqlite")
    result = _compare(store=path)
    store = Store(path)
    before = (len(store.scores(result.run_id)), len(store.decisions(result.run_id)))
    assert result.post_results(store=path, tags=["ci"]) == result.run_id
    assert result.post_results(store=store, tags=["ci"]) == result.run_id
    rec = store.run_record(result.run_id)
    assert (len(rec["scores"]), len(rec["decisions"])) == before and rec["tags"] == ["ci"]
    assert store.list_runs()[1] == 1
    assert {a["model"] for a in rec["call_answers"]} == {"m-strong", "m-weak"}  # answers from the journal


def test_default_store_is_the_stores_default_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rid = _compare(n=60).post_results(tags=["default"])
    assert Store(tmp_path / "bayesbench.sqlite").run_record(rid)["tags"] == ["default"]


def test_ranking_report_and_suite_results(tmp_path: Path) -> None:
    path = str(tmp_path / "r.sqlite")
    ranker = BayesianRanker(confidence=0.95, min_samples=5, seed=3)
    ranker.add_model("a", lambda p: p % 10 != 0).add_model("b", lambda p: p % 2 == 0)

    @ranker.evaluate
    def score(problem: int, response: bool) -> float:
        return float(response)

    ranking = ranker.rank(dataset=list(range(300)))
    rid = ranking.post_results(store=path, name="nightly-ranking")
    store = Store(path)
    rec = store.run_record(rid)
    assert rec["kind"] == "rank" and rec["name"] == "nightly-ranking" and rec["models"] == ranking.order
    assert len(rec["scores"]) == sum(len(v) for v in ranking.item_scores.values()) > 0

    bench = BayesianBenchmark(confidence=0.95, min_samples=3, seed=1)

    @bench.task(dataset=list(range(100)), name="t1")
    def t1(problem: int) -> tuple[float, float]:
        return float(problem % 3 != 0), float(problem % 2 == 0)

    @bench.task(dataset=list(range(100)), name="t2")
    def t2(problem: int) -> tuple[float, float]:
        return 1.0, float(problem % 4 != 0)

    report = bench.run()
    ids = report.post_results(store=path, tags=["report"])
    assert len(ids) == 2 and [store.run_record(i)["name"] for i in ids] == ["t1", "t2"]
    assert report.post_results(store=path, tags=["report"]) == ids

    from bayesbench.benchmarks import BigBenchHard

    suite = BigBenchHard(tasks=["navigate"], n_shots=0, n_problems_per_task=12, seed=0)
    result = suite.evaluate(lambda prompt: "Yes " + KEY, model_name="yes-bot", max_concurrency=2)
    sid = result.post_results(store=path, tags=["bbh"])
    rec = store.run_record(sid)
    assert rec["kind"] == "suite" and rec["models"] == ["yes-bot"] and len(rec["scores"]) == 12
    assert {i["problem_id"] for i in rec["items"]} == {r.problem_id for r in result.records}
    assert all(i["answer"].startswith("Yes") for i in rec["items"])
    renamed = result.post_results(store=path, model_name="renamed-bot")  # another name: another record
    assert renamed != sid and store.run_record(renamed)["scores"][0]["model"] == "renamed-bot"
    assert store.list_runs()[1] == 5 and store.list_runs(kind="suite")[1] == 2


def test_resources_are_filed_when_the_result_has_them(tmp_path: Path) -> None:
    result = _compare(n=50)
    result.resources = {"peak_rss_mb": 512.5, "gpu": {"name": "none"}, "api_key": "sk-should-not-be-kept"}
    rec = Store(tmp_path / "x.sqlite").run_record(result.post_results(store=str(tmp_path / "x.sqlite")))
    assert rec["resources"] == {"peak_rss_mb": 512.5, "gpu": {"name": "none"}, "api_key": "<redacted>"}


def test_bad_arguments_are_refused_clearly(tmp_path: Path) -> None:
    result = _compare(n=40)
    with pytest.raises(ConfigError, match="`tags` must be a list"):
        result.post_results(store=str(tmp_path / "a.sqlite"), tags="nightly")
    with pytest.raises(ConfigError, match="not both"):
        result.post_results(store=str(tmp_path / "a.sqlite"), url="http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="needs its token"):
        result.post_results(url="http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="model_name"):
        result.post_results(store=str(tmp_path / "a.sqlite"), model_name="  ")
    with pytest.raises(StoreError, match="cannot post the run"):
        result.post_results(url="http://127.0.0.1:9", token="whatever-token")


def test_a_read_only_store_refuses_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "ro.sqlite")
    rid = _compare(n=40).post_results(store=path)
    ro = Store(path, read_only=True)
    assert ro.list_runs()[0][0]["id"] == rid
    doc = {"format": "bayesbench.run/1", "id": "x1", "name": "n", "kind": "compare"}
    with pytest.raises(StoreError, match="readonly|read-only|read only"):
        ro.put_posted_run(doc)
    with pytest.raises(StoreError, match="no store at"):
        Store(str(tmp_path / "missing.sqlite"), read_only=True)
    odd = tmp_path / "a dir #1" / "runs 100%.sqlite"  # URI characters in the path are the path's own
    odd.parent.mkdir()
    rid = _compare(n=40).post_results(store=str(odd))
    assert Store(str(odd), read_only=True).run_record(rid)["id"] == rid


_WRITER = """
import json, sys
from bayesbench import BayesianBenchmark
from bayesbench.store import Store
tag, path, n, shared = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = Store(path)
docs = json.load(open(shared))
for k in range(n):
    bench = BayesianBenchmark(confidence=0.95, seed=k)
    r = bench.compare(lambda p: p % 5 != 0, lambda p: p % 2 == 0, lambda p, x: float(x), list(range(60)), name=tag)
    r.post_results(store=path, tags=[tag])
    store.put_posted_run(dict(docs[k], tags=["both", tag]))  # the same run, posted by both writers at once
"""


def test_two_writers_posting_at_once(tmp_path: Path) -> None:
    from bayesbench.store._post import run_document

    path, shared = str(tmp_path / "two.sqlite"), tmp_path / "shared.json"
    docs = [run_document(_compare(seed=k, n=60)) for k in range(8)]
    shared.write_text(json.dumps(docs))
    Store(path).close()
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, tag, path, "8", str(shared)], env=env,
                              stderr=subprocess.PIPE, text=True) for tag in ("w1", "w2")]
    for p in procs:
        _, err = p.communicate(timeout=100)
        assert p.returncode == 0, err
    store = Store(path)
    assert store.list_runs(task="w1")[1] == 8 and store.list_runs(task="w2")[1] == 8
    rows, total = store.list_runs(task="parity", limit=50)
    assert total == 8 and {r["id"] for r in rows} == {d["id"] for d in docs}  # filed once each
    for row in rows:
        assert row["tags"] == ["both", "w1", "w2"]
        rec = store.run_record(row["id"])
        assert len(rec["scores"]) == 2 * rec["summary"]["problems_tested"]
        assert len(rec["decisions"]) == len({d["n"] for d in rec["decisions"]})
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
