"""Repeated runs (n_runs / epochs): every repeat is a real call (the cache key holds the run index), the
per-run scores are kept, reductions, the variance report, and the setting on every door and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from bayesbench import BayesianBenchmark, BayesianRanker, ConfigError, ScoringError
from bayesbench.engine import RunSettings
from bayesbench.models import openai_model
from bayesbench.store import Store

N_PROBLEMS = 24
ACCURACY = {"fake-model": 0.8, "fake-claude": 0.45}


def _sampling_server_answer(seen: Counter):
    """A 'temperature > 0' server: the answer to the k-th identical request is drawn from (model, prompt, k),
    right with the model's accuracy; deterministic given the arrival order of identical requests."""

    def answer(request) -> str:
        model = request.body.get("model")
        key = (model, request.prompt)
        seen[key] += 1
        u = int(hashlib.sha256(f"{key}-{seen[key]}".encode()).hexdigest()[:8], 16) / 16**8
        return "right" if u < ACCURACY[model] else "wrong"

    return answer


def _score(problem, response) -> float:
    return float(response.text.strip() == "right")


def _problems() -> list[dict]:
    return [{"id": i, "question": f"question {i}"} for i in range(N_PROBLEMS)]


def test_n_runs_makes_real_calls_per_run_and_a_rerun_hits_the_cache(fake_server, tmp_path) -> None:
    seen: Counter = Counter()
    fake_server.answer = _sampling_server_answer(seen)
    store = Store(tmp_path / "runs.db")
    a = openai_model("fake-model", fake_server.openai_base_url, temperature=0.7)
    b = openai_model("fake-claude", fake_server.openai_base_url, temperature=0.7)
    bench = BayesianBenchmark(n_runs=3, seed=4, batch_size=4, store=store, max_problems=N_PROBLEMS)
    result = bench.compare(a, b, _score, _problems(), model_a_name="a", model_b_name="b")
    requests = fake_server.api_requests()
    per_key = Counter((r.body["model"], r.prompt) for r in requests)
    # every dispatched problem was asked 3 times by each model, each a real request
    assert set(per_key.values()) == {3}
    dispatched = len(per_key) // 2
    assert dispatched >= result.problems_tested and len(requests) == 3 * 2 * dispatched
    assert result.model_calls == len(requests)
    assert result.n_runs == 3 and result.reduce == "mean"
    # the per-run scores are kept, problem by problem in problem_order
    assert set(result.run_scores) == {"a", "b"}
    assert len(result.run_scores["a"]) == result.problems_tested
    assert all(len(row) == 3 for row in result.run_scores["a"] + result.run_scores["b"])
    means = [sum(r) / 3 for r in result.run_scores["a"]]
    assert result.mean_a == pytest.approx(sum(means) / len(means))  # the engine saw the reduced (mean) scores
    rep = result.repeats
    assert rep["n_runs"] == 3 and {"a", "b"} <= set(rep["models"]) and "difference" in rep
    assert rep["models"]["a"]["sigma2_run"] > 0  # sampling made the runs differ
    boot = rep["difference"]["bootstrap"]  # the cluster bootstrap (problems resampled), seeded by the run's seed
    assert boot["seed"] == 4 and boot["low"] < result.difference < boot["high"]
    assert boot["se"] == pytest.approx(rep["difference"]["se"], rel=0.3)
    assert "between-run variance" in result.summary()
    json.dumps(result.to_dict())
    store.close()

    # an identical re-run is answered from the cache: not one request more, the same result
    store = Store(tmp_path / "runs.db")
    again = BayesianBenchmark(n_runs=3, seed=4, batch_size=4, store=store, max_problems=N_PROBLEMS).compare(
        openai_model("fake-model", fake_server.openai_base_url, temperature=0.7),
        openai_model("fake-claude", fake_server.openai_base_url, temperature=0.7),
        _score, _problems(), model_a_name="a", model_b_name="b")
    assert len(fake_server.api_requests()) == len(requests)
    assert again.run_scores == result.run_scores and again.status == result.status
    store.close()


def test_run_zero_is_the_single_run_call(fake_server, tmp_path) -> None:
    """n_runs=2 after a single run with the same store asks only the second run again."""
    seen: Counter = Counter()
    fake_server.answer = _sampling_server_answer(seen)
    problems = _problems()[:8]
    store = Store(tmp_path / "runs.db")

    def run(n_runs: int):
        return BayesianBenchmark(n_runs=n_runs, seed=1, store=store, min_samples=8, batch_size=8,
                                 rule="fixed").compare(
            openai_model("fake-model", fake_server.openai_base_url, temperature=0.7),
            openai_model("fake-claude", fake_server.openai_base_url, temperature=0.7), _score, problems)

    run(1)
    assert len(fake_server.api_requests()) == 16
    run(2)
    assert len(fake_server.api_requests()) == 32  # 16 new calls: run 1 only
    store.close()


def _cycling(answers: list[str]):
    calls = Counter()

    def model(problem):
        k = calls[problem["id"]]
        calls[problem["id"]] += 1
        return answers[k % len(answers)]

    return model, calls


def test_reductions_mean_majority_and_pass_at_k() -> None:
    problems = [{"id": i} for i in range(12)]

    def right(problem, response) -> float:
        return float(response.startswith("right"))

    def run(reduce: str, n_runs: int = 3):
        a, calls_a = _cycling(["right", "wrong", "right "])  # "right " is the same answer as "right"
        b, _ = _cycling(["wrong", "wrong", "right"])
        res = BayesianBenchmark(n_runs=n_runs, reduce=reduce, rule="fixed", seed=0, min_samples=12,
                                batch_size=12).compare(a, b, right, problems)
        assert all(v == n_runs for v in calls_a.values())  # no store: every run is a call
        return res

    mean = run("mean")
    assert mean.mean_a == pytest.approx(2 / 3) and mean.mean_b == pytest.approx(1 / 3)
    majority = run("majority")
    assert majority.mean_a == 1.0 and majority.mean_b == 0.0
    # unbiased pass@k: a has c=2 of n=3 right, b has c=1
    assert run("pass@1").mean_a == pytest.approx(2 / 3)
    assert run("pass@2").mean_b == pytest.approx(1 - 1 / 3)
    assert run("pass@k").mean_b == 1.0 and run("pass@k").mean_a == 1.0
    assert mean.run_scores["model_a"][0] == [1.0, 0.0, 1.0]


def test_task_functions_repeat_and_majority_is_the_modal_score() -> None:
    calls = Counter()
    bench = BayesianBenchmark(n_runs=3, reduce="majority", rule="fixed", seed=0, min_samples=6, batch_size=6)

    @bench.task(dataset=[{"id": i} for i in range(6)])
    def task(problem):
        calls[problem["id"]] += 1
        return (1.0, 0.0) if calls[problem["id"]] != 2 else (0.0, 1.0)

    result = bench.run().task_results[0]
    assert set(calls.values()) == {3}
    assert result.mean_a == 1.0 and result.mean_b == 0.0
    assert result.model_calls == 2 * 3 * 6 and "3 runs per problem" in result.summary()


def test_ranking_with_repeated_runs(fake_server) -> None:
    seen: Counter = Counter()
    fake_server.answer = _sampling_server_answer(seen)
    ranker = BayesianRanker(n_runs=2, seed=3, rule="fixed", batch_size=8)
    ranker.add_model("strong", openai_model("fake-model", fake_server.openai_base_url, temperature=0.7))
    ranker.add_model("weak", openai_model("fake-claude", fake_server.openai_base_url, temperature=0.7))
    result = ranker.rank(_problems()[:16], score_fn=_score)
    assert len(fake_server.api_requests()) == 2 * 2 * 16 == result.calls_used == result.calls_exhaustive
    assert all(len(rows) == 16 and all(len(r) == 2 for r in rows) for rows in result.run_scores.values())
    assert set(result.repeats["models"]) == {"strong", "weak"} and result.to_dict()["n_runs"] == 2
    assert "runs per problem" in result.summary()


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="`n_runs` must be an integer >= 1"):
        RunSettings(n_runs=0)
    with pytest.raises(ConfigError, match=r"`reduce` must be 'mean', 'majority' or 'pass@K' with 1 <= K <= n_runs \(3\)"):
        RunSettings(n_runs=3, reduce="pass@5")
    with pytest.raises(ConfigError, match="`reduce` must be"):
        BayesianBenchmark(reduce="median")
    graded = BayesianBenchmark(n_runs=2, reduce="pass@k", rule="fixed", min_samples=2)
    with pytest.raises(ScoringError, match="needs correct/incorrect scores"):
        graded.compare(lambda p: "x", lambda p: "y", lambda p, r: 0.5, [{"id": 0}, {"id": 1}])


def test_the_cli_flag(tmp_path) -> None:
    f = tmp_path / "bench.py"
    f.write_text(textwrap.dedent("""
        from collections import Counter
        from bayesbench import BayesianBenchmark

        calls = Counter()
        bench = BayesianBenchmark(seed=0, rule="fixed")

        @bench.task(dataset=[{"id": i} for i in range(10)], name="t")
        def t(problem):
            calls[problem["id"]] += 1
            return float(calls[problem["id"]] % 2), 0.0
    """))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    out = subprocess.run([sys.executable, "-m", "bayesbench.cli", "run", str(f), "--n-runs", "4", "--reduce", "mean",
                          "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    task = json.loads(out.stdout)["bench"]["task_results"]["t"]
    assert task["n_runs"] == 4 and task["mean_a"] == 0.5 and task["model_calls"] == 2 * 4 * 10
    assert all(row == [1.0, 0.0, 1.0, 0.0] for row in task["run_scores"]["model_a"])
    bad = subprocess.run([sys.executable, "-m", "bayesbench.cli", "run", str(f), "--n-runs", "0"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert bad.returncode == 2 and "n_runs" in bad.stderr
