"""The store behind a run: cached re-runs make no calls; a run killed with SIGKILL resumes without
repeating paid calls and reaches the same decision as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from bayesbench import BayesianBenchmark, BayesianRanker
from bayesbench.store import Store

from .conftest import exact, make_problems

SCRIPT = textwrap.dedent(
    """
    import sys, time, json
    import numpy as np
    from bayesbench import BayesianBenchmark

    db, log = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    a_ok = rng.random(600) < 0.62
    b_ok = rng.random(600) < 0.50
    problems = [{"id": i, "question": f"q{i}", "answer": "right"} for i in range(600)]

    def make(name, table):
        def model(problem):
            with open(log, "a") as f:
                f.write(f"{name} {problem['id']}\\n")
            time.sleep(0.004)
            return "right" if table[problem["id"]] else "wrong"
        model.cache_key = name
        return model

    bench = BayesianBenchmark(seed=17, store=db, max_concurrency=4, batch_size=8)
    result = bench.compare(make("a", a_ok), make("b", b_ok),
                           lambda p, r: float(r == p["answer"]), problems, name="resumable")
    print(json.dumps({k: result.to_dict()[k] for k in
                      ("winner", "problems_tested", "difference", "ci", "resumed", "run_id")}))
    """
)


def run_script(tmp_path: Path, db: Path, log: Path) -> subprocess.Popen:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    return subprocess.Popen([sys.executable, str(script), str(db), str(log)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def calls_in(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_killed_run_resumes_without_repeating_paid_calls(tmp_path):
    # reference: the same run, uninterrupted, in its own store
    ref = run_script(tmp_path, tmp_path / "ref.sqlite", tmp_path / "ref.log")
    ref_out, ref_err = ref.communicate(timeout=240)
    assert ref.returncode == 0, ref_err
    reference = json.loads(ref_out)
    assert reference["problems_tested"] > 100  # long enough to be killed half-way

    db, log = tmp_path / "run.sqlite", tmp_path / "run.log"
    first = run_script(tmp_path, db, log)
    deadline = time.monotonic() + 120
    while len(calls_in(log)) < reference["problems_tested"] and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    before = calls_in(log)
    assert 0 < len(before) < 2 * reference["problems_tested"]

    store = Store(db)
    (run,) = store.runs()
    assert run["status"] == "running"
    committed = {(c["model"], c["problem_id"]) for c in store.calls(run["id"]) if c["error"] is None}
    assert committed, "finished calls must be in the store before the kill"

    second = run_script(tmp_path, db, log)
    out, err = second.communicate(timeout=240)
    assert second.returncode == 0, err
    resumed = json.loads(out)
    assert resumed["resumed"] is True and resumed["run_id"] == run["id"]
    for key in ("winner", "problems_tested", "difference", "ci"):
        assert resumed[key] == reference[key], key

    after = calls_in(log)[len(before):]
    names = {"model_a": "a", "model_b": "b"}
    committed_calls = {f"{names[m]} {p}" for m, p in committed}
    repeated = committed_calls & set(after)
    assert not repeated, f"paid calls repeated after resume: {sorted(repeated)[:5]}"
    # only calls in flight at the kill, or answered but not yet committed, may be asked again
    assert len(set(before) & set(after)) <= 16
    assert Store(db).runs()[0]["status"] == "finished"


def test_second_identical_run_is_served_from_the_cache(tmp_path):
    problems = make_problems(200)
    rng = np.random.default_rng(1)
    table_a, table_b = rng.random(200) < 0.8, rng.random(200) < 0.5
    calls = []

    def model_a(problem):
        calls.append(problem["id"])
        return "right" if table_a[problem["id"]] else "wrong"

    def model_b(problem):
        calls.append(problem["id"])
        return "right" if table_b[problem["id"]] else "wrong"

    db = tmp_path / "cache.sqlite"
    first = BayesianBenchmark(seed=3, store=str(db)).compare(model_a, model_b, exact, problems)
    n_first = len(calls)
    assert n_first >= 2 * first.problems_tested
    assert first.usage["models"]["model_a"]["calls"] >= first.problems_tested
    # a finished run is not resumed but its answers are reused: zero new calls, same verdict
    second = BayesianBenchmark(seed=3, store=str(db)).compare(model_a, model_b, exact, problems)
    assert len(calls) == n_first
    assert (second.winner, second.problems_tested, second.ci) == (first.winner, first.problems_tested, first.ci)
    assert second.run_id != first.run_id and not second.resumed
    store = Store(db)
    assert [r["status"] for r in store.runs()] == ["finished", "finished"]
    assert len(store.scores(first.run_id)) == 2 * first.problems_tested
    assert store.decisions(first.run_id)[-1]["status"] == first.status


def test_ranking_records_to_the_store(tmp_path):
    problems = make_problems(120)
    ranker = BayesianRanker(seed=0, store=str(tmp_path / "rank.sqlite"))
    ranker.add_model("good", lambda p: "right").add_model("bad", lambda p: "wrong")
    ranker.add_model("mid", lambda p: "right" if p["id"] % 2 else "wrong")
    result = ranker.rank(dataset=problems, score_fn=exact)
    assert result.order == ["good", "mid", "bad"]
    store = Store(tmp_path / "rank.sqlite")
    (run,) = store.runs()
    assert run["status"] == "finished" and run["id"] == result.run_id
    assert len(store.calls(run["id"])) == result.calls_used
    assert os.path.getsize(tmp_path / "rank.sqlite") > 0
