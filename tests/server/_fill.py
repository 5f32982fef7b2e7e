"""A real store filled by real runs (function models): a journaled comparison, two suite runs of BBH
(vendored data) by two models, a ranking and a two-task report, all filed with ``post_results``.

The data carry hostile text on purpose: a model answers with an XSS payload and a key-like string, and
a model is named with markup, so the pages' escaping and secret masking are tested on real records.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bayesbench import BayesianBenchmark, BayesianRanker
from bayesbench.benchmarks import BigBenchHard

XSS = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"
EVIL_NAME = "<b onmouseover=\"window.__pwned=3\">evil-model</b>"
KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"  # key-like, must never reach a page
SRC = str(Path(__file__).resolve().parents[2] / "src")


def fill(store: str) -> dict[str, Any]:
    """Run everything into ``store``; return the ids the tests click through to."""
    problems = [{"question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(240)]

    def good(p: dict[str, str]) -> str:
        return p["answer"]

    def flaky(p: dict[str, str]) -> str:
        if int(p["answer"]) % 3 == 0:
            return XSS + " my key is " + KEY
        return p["answer"]

    def addition(problem: dict[str, str], response: str) -> bool:
        return response.strip() == problem["answer"]

    compare = BayesianBenchmark(confidence=0.95, seed=0, store=store).compare(
        good, flaky, addition, problems, name="addition", model_a_name="good-model", model_b_name=EVIL_NAME)
    # what the resource monitor attaches to a result (another helper's work); the token under it must never show
    samples = [{"t_s": 0.5 * k, "process_cpu_percent": 40.0 + 5 * (k % 4), "rss_bytes": (150 + 3 * k) * 2**20}
               for k in range(12)]
    compare.resources = {"interval_s": 0.5, "samples": samples, "peak_rss_bytes": 183 * 2**20, "peak_rss_mb": 182.5,
                         "cpu": {"percent": 97.0, "cores": 2}, "hf_token": KEY, "note": "loaded with " + KEY}
    compare_id = compare.post_results(store=store, tags=["nightly", "v2.1"])

    suite_ids = []
    for name, answer in (("always-yes", "Yes"), ("always-no", "No")):
        bench = BigBenchHard(tasks=["navigate", "sports_understanding"], n_shots=0, n_problems_per_task=15, seed=1)
        result = bench.evaluate(lambda prompt, a=answer: a, model_name=name, max_concurrency=4)
        suite_ids.append(result.post_results(store=store, tags=["bbh"]))

    history_id = _history_run(store)

    ranker = BayesianRanker(confidence=0.95, min_samples=5, seed=2)
    ranker.add_model("strong", lambda p: p % 10 != 0).add_model("medium", lambda p: p % 3 != 0)
    ranker.add_model("medium-twin", lambda p: p % 3 != 0).add_model("weak", lambda p: p % 2 == 0)

    @ranker.evaluate
    def score(problem: int, response: bool) -> float:
        return float(response)

    ranking = ranker.rank(dataset=list(range(400)))
    rank_id = ranking.post_results(store=store, tags=["weekly"], name="arith-ranking")

    bench = BayesianBenchmark(confidence=0.95, min_samples=3, seed=1)

    @bench.task(dataset=list(range(200)), name="gsm8k-mini")
    def math(problem: int) -> tuple[float, float]:
        return float(problem % 10 != 0), float(problem % 3 != 0)

    @bench.task(dataset=list(range(200)), name="same-skill")
    def same(problem: int) -> tuple[float, float]:
        return float(problem % 4 != 0), float(problem % 4 != 0)

    report_ids = bench.run().post_results(store=store, tags=["report"])
    monitor = run_monitor(store)
    return {"compare": compare_id, "suites": suite_ids, "rank": rank_id, "report": report_ids,
            "compare_result": compare, "monitor": monitor, "history": history_id}


def _history_run(store: str) -> str:
    """A suite run estimated from a fitted bank (history=): 8-12 questions asked, the bank-wide mean estimated."""
    import numpy as np

    from bayesbench.history import ItemBank

    suite = BigBenchHard(tasks=["navigate", "sports_understanding"], n_shots=0, n_problems_per_task=15, seed=1)
    ids = [p["id"] for p in suite.problems()]
    rng = np.random.default_rng(0)
    p = 1 / (1 + np.exp(-(rng.normal(0, 1.5, (80, 1)) - rng.normal(0, 1.5, len(ids)))))
    bank = ItemBank((rng.random(p.shape) < p).astype(float), models=[f"m{i}" for i in range(80)], items=ids)
    result = suite.evaluate(lambda prompt: "Yes", model_name="yes-by-history", history=bank.fit(ranks=(1,), seed=0),
                            budget=12, seed=0)
    return result.post_results(store=store, tags=["history"])


_MONITOR_MODULE = """
BROKEN = False
problems = [{"id": f"q{i}", "prompt": f"{i}+{i}=", "answer": str(2 * i)} for i in range(200)]

def model(prompt):
    i = int(prompt.split("+")[0])
    if BROKEN and i % 3 == 0:  # the regression: a third of the answers go wrong
        return "?"
    return str(2 * i) if i % 10 else "?"

def exact(problem, response):
    return float(response.strip() == problem["answer"])
"""


def run_monitor(store: str) -> dict[str, Any]:
    """A real bayesbench.monitor over ``store``: a baseline, 5 good scheduled runs, then 4 after a regression."""
    import importlib

    from bayesbench.monitor import load_monitors, run_monitors

    folder = Path(store).parent
    (folder / "bb_dash_models.py").write_text(_MONITOR_MODULE)
    config = folder / "monitors.toml"
    config.write_text(f"""store = {str(store)!r}
python_path = ["."]

[[monitor]]
name = "nightly-addition"
model = "bb_dash_models:model"
dataset = "bb_dash_models:problems"
score = "bb_dash_models:exact"
model_name = "adder-v1"
items_per_run = 40
margin = 0.02
""")
    file = load_monitors(config)
    file.activate()
    sys.path.insert(0, str(folder))
    module = importlib.import_module("bb_dash_models")
    checks = []
    for k in range(10):
        module.BROKEN = k >= 6  # run 0 is the baseline; runs 6..9 regressed
        checks = run_monitors(file)[1]
    return {"name": "nightly-addition", "alert": any(c.alert for c in checks)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """``bayesbench serve`` in a real subprocess on a free loopback port."""

    def __init__(self, store: str, token: str | None, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("BAYESBENCH_TOKEN", None)
        cmd = [sys.executable, "-m", "bayesbench.cli", "serve", "--store", store, "--port", str(self.port), *extra]
        if token:
            cmd += ["--token", token]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bayesbench serve exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                if httpx.get(self.url + "/api/runs?limit=1", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("bayesbench serve did not answer within 60 s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
