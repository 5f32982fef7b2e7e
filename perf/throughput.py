"""Throughput of the executor against a local server with a fixed 50 ms latency.

Prints calls/s at several concurrency limits as a fraction of the ideal (concurrency / latency),
the speed-up over concurrency 2 (what the original bayesbench keeps in flight), and the
executor's overhead against a bare ``asyncio.Semaphore`` + ``gather`` with the same client, all
measured in the same run. Target: >= 90 % of ideal at concurrency 32.

The server runs in its own process. The default client is bare asyncio streams, so the numbers
are about the executor; ``--client httpx`` uses httpx, whose own per-request cost caps a single
process at a few hundred calls/s on a small machine (that is httpx, not the executor: the bare
column shows the same cap; see encode/httpx#3215).

    python perf/throughput.py [--latency 0.05] [--waves 10] [--client raw|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import HttpModel, RawHttpModel, latency_server  # noqa: E402
from bayesbench.execution import Executor  # noqa: E402


async def measure(url: str, concurrency: int, n: int, client: str) -> float:
    model = RawHttpModel(url) if client == "raw" else HttpModel(url)
    ex = Executor(max_concurrency=concurrency)
    await ex.call("warm-up", model, "warm-up")  # open the client outside the timed part
    t0 = time.perf_counter()
    recs = await asyncio.gather(*(ex.call("m", model, f"q{i}", problem_id=str(i)) for i in range(n)))
    elapsed = time.perf_counter() - t0
    bad = [r.error for r in recs if not r.ok]
    if bad:
        raise SystemExit(f"{len(bad)} calls failed, e.g. {bad[0]}")
    ex.close()
    await model.aclose()
    return n / elapsed


async def measure_bare(url: str, concurrency: int, n: int, client: str) -> float:
    """The same calls with no executor: a semaphore and gather (the floor of any overhead)."""
    model = RawHttpModel(url) if client == "raw" else HttpModel(url)
    sem = asyncio.Semaphore(concurrency)
    await model("warm-up")

    async def one(i: int) -> str:
        async with sem:
            return await model(f"q{i}")

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - t0
    await model.aclose()
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--waves", type=int, default=10, help="calls per run = waves * concurrency (at least 40)")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw")
    args = ap.parse_args()
    rows = []
    with latency_server(args.latency) as url:
        for conc in (1, 2, 8, 32, 128):
            n = max(40, args.waves * conc)
            rate = asyncio.run(measure(url, conc, n, args.client))
            bare = asyncio.run(measure_bare(url, conc, n, args.client))
            rows.append((conc, n, rate, rate / (conc / args.latency), bare))
    base = rows[1][2]
    print(f"latency {args.latency * 1000:.0f} ms per call, client {args.client}; ideal = concurrency / latency")
    print(f"{'concurrency':>11} {'calls':>6} {'calls/s':>9} {'ideal':>8} {'of ideal':>9} {'vs conc 2':>10} {'bare':>9} {'exec/bare':>10}")
    for conc, n, rate, frac, bare in rows:
        print(
            f"{conc:>11} {n:>6} {rate:>9.1f} {conc / args.latency:>8.0f} {frac:>8.1%} {rate / base:>9.1f}x"
            f" {bare:>9.1f} {rate / bare:>9.1%}"
        )
    at32 = next(r for r in rows if r[0] == 32)[3]
    print(f"target >= 90% of ideal at concurrency 32: {'met' if at32 >= 0.9 else 'NOT met'} ({at32:.1%})")


if __name__ == "__main__":
    main()
