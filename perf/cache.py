"""The response cache: a second identical run makes no model calls and takes a sliver of the time.

Runs N prompts through an Executor backed by a fresh SQLite store against a local server with a
50 ms latency (its own process), then the same N again with a new executor on the same file, as a
re-run would. Prints both times, the ratio (target < 5 %) and the server's request counts.

    python perf/cache.py [--n 400] [--concurrency 8] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RawHttpModel, latency_server  # noqa: E402
from bayesbench.execution import Executor  # noqa: E402
from bayesbench.store import Store  # noqa: E402


class CountingModel(RawHttpModel):
    calls = 0

    async def __call__(self, prompt: str) -> str:
        CountingModel.calls += 1
        return await super().__call__(prompt)


async def one_run(db: Path, url: str, n: int, concurrency: int) -> tuple[float, int, int]:
    store = Store(db)
    run_id = store.start_run("cache-bench", {"n": n}, 0, [str(i) for i in range(n)])
    model = CountingModel(url)
    ex = Executor(max_concurrency=concurrency, store=store, run_id=run_id)
    before = CountingModel.calls
    t0 = time.perf_counter()
    recs = await asyncio.gather(*(ex.call("m", model, f"question {i}", problem_id=str(i)) for i in range(n)))
    elapsed = time.perf_counter() - t0
    ex.close()
    await model.aclose()
    store.close()
    assert all(r.ok for r in recs)
    return elapsed, CountingModel.calls - before, sum(r.cached for r in recs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, latency_server(args.latency) as url:
        db = Path(tmp) / "bench.sqlite"
        t1, calls1, cached1 = asyncio.run(one_run(db, url, args.n, args.concurrency))
        t2, calls2, cached2 = asyncio.run(one_run(db, url, args.n, args.concurrency))
    print(f"{args.n} prompts, concurrency {args.concurrency}, server latency {args.latency * 1000:.0f} ms, SQLite store")
    print(f"{'run':>6} {'time s':>8} {'model calls':>12} {'cache hits':>11} {'ms/call':>8}")
    print(f"{'first':>6} {t1:>8.3f} {calls1:>12} {cached1:>11} {1000 * t1 / args.n:>8.3f}")
    print(f"{'second':>6} {t2:>8.3f} {calls2:>12} {cached2:>11} {1000 * t2 / args.n:>8.3f}")
    ratio = t2 / t1
    ok = calls2 == 0 and ratio < 0.05
    print(f"second/first time: {ratio:.1%} (target < 5% with 0 calls: {'met' if ok else 'NOT met'})")


if __name__ == "__main__":
    main()
