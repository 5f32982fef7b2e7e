"""Per-item cost of the LLM judge's own machinery (prompt, executor, strict parse, cache), against raw calls.

    python perf/judge_overhead.py [--items 400] [--concurrency 8] [--latency-s 0.0]

The fake provider runs in its own process (``python -m tests.fakeserver --answer "VERDICT: right"``). The
baseline sends the same rendered prompts with the same adapter's ``a_generate`` at the same concurrency (an
asyncio semaphore), with no executor, no parsing and no records: what any judge must pay. Then the judge
(``JudgeScorer.grade``) without a store, with a SQLite store (records + cache filled), and again on that store
(every verdict from the cache). The ratio judge / baseline is the figure to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT / "src"))

from bayesbench.builder._judge import JudgeScorer  # noqa: E402
from bayesbench.execution import Executor  # noqa: E402
from bayesbench.models import openai_model  # noqa: E402
from bayesbench.store import Store  # noqa: E402

RUBRIC = {"wrong": "not the capital", "right": "the capital"}


def problems(n: int) -> list[tuple[dict, str]]:
    return [({"id": f"q{i}", "input": f"What is the capital of country number {i}?", "answer": "X"}, f"City {i}")
            for i in range(n)]


async def baseline(url: str, items, concurrency: int) -> float:
    model = openai_model("fake-model", base_url=url)
    prompts = [JudgeScorer(model, rubric=RUBRIC).prompt(p, r) for p, r in items]
    sem = asyncio.Semaphore(concurrency)

    async def one(prompt: str) -> str:
        async with sem:
            return await model.a_generate(prompt)

    t = time.perf_counter()
    await asyncio.gather(*(one(p) for p in prompts))
    dt = time.perf_counter() - t
    await model.aclose()
    return dt


async def judged(url: str, items, concurrency: int, store: Store | None) -> float:
    model = openai_model("fake-model", base_url=url)
    ex = Executor(max_concurrency=concurrency, store=store)
    judge = JudgeScorer(model, rubric=RUBRIC, executor=ex)
    t = time.perf_counter()
    await asyncio.gather(*(judge.grade(p, r) for p, r in items))
    dt = time.perf_counter() - t
    ex.close()
    await model.aclose()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--latency-s", type=float, default=0.0)
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "tests.fakeserver", "--answer", "VERDICT: right",
                               "--latency-s", str(args.latency_s)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=ROOT, env=env)
    try:
        line = server.stdout.readline().split()
        url = line[1] + "/v1"
        items = problems(args.items)
        asyncio.run(baseline(url, items[:20], args.concurrency))  # warm up the client and server
        base = asyncio.run(baseline(url, items, args.concurrency))
        plain = asyncio.run(judged(url, items, args.concurrency, None))
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "judge.sqlite"
            stored = asyncio.run(judged(url, items, args.concurrency, Store(db)))
            cached = asyncio.run(judged(url, items, args.concurrency, Store(db)))
    finally:
        server.stdin.close()
        server.wait(10)
    n = args.items
    print(f"{n} items, concurrency {args.concurrency}, server latency {args.latency_s:g} s")
    print(f"{'path':<38}{'ms/item':>10}{'ratio':>8}")
    for name, dt in [("baseline: raw a_generate", base), ("judge (executor, parse)", plain),
                     ("judge + SQLite store (records, cache)", stored), ("judge, all from the cache", cached)]:
        print(f"{name:<38}{1000 * dt / n:>10.3f}{dt / base:>8.2f}")


if __name__ == "__main__":
    main()
