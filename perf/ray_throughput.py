"""Throughput of model calls on Ray against the in-process executor, in the same run.

Two models, each called N times at several concurrency limits:

* latency-bound: ``time.sleep(latency)`` per call (a remote API). In-process, threads overlap the waits
  for free; on Ray a call is a task (``num_cpus_per_call``) or a call on a threaded actor
  (``ray_actor_model(..., max_concurrency=C)``), so the table shows what the hop to Ray costs.
* CPU-bound: a pure-Python loop of about ``--cpu-ms`` ms per call (a local model). In-process, threads
  share one GIL, so calls/s stays at one core's worth; Ray tasks (1 CPU each) run on every CPU of the
  cluster, so the ratio grows with the cluster's CPUs.

The table gives calls/s and the ratio Ray / in-process for each row. A local cluster is started
(``--num-cpus``, default 2) unless ``--address`` names one; one warm-up wave per row is not timed
(Ray starts its worker processes then).

    python perf/ray_throughput.py [--calls 160] [--latency 0.05] [--cpu-ms 20] [--concurrency 8 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from bayesbench.execution import Executor, RayExecutor, ray_actor_model  # noqa: E402


def sleepy(latency: float, prompt: str) -> str:
    """A latency-bound model: waits like a remote API, uses no CPU."""
    time.sleep(latency)
    return f"answer to {prompt}"


def busy(cpu_ms: float, prompt: str) -> str:
    """A CPU-bound model: pure Python work, holds the GIL the whole time."""
    end = time.thread_time() + cpu_ms / 1000
    x = 0
    while time.thread_time() < end:
        for i in range(1000):
            x += i * i
    return f"answer to {prompt} ({x % 7})"


class Hosted:
    """The same function built inside a Ray actor (what ray_actor_model hosts)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, prompt: str) -> str:
        return self.fn(prompt)


async def rate(executor: Executor, model: Any, n: int) -> float:
    # not timed: Ray starts its worker processes here (one per task in flight)
    await asyncio.gather(*(executor.call("warm-up", model, f"w{i}") for i in range(max(n // 4, 2 * executor.max_concurrency))))
    t0 = time.perf_counter()
    recs = await asyncio.gather(*(executor.call("m", model, f"q{i}", problem_id=str(i)) for i in range(n)))
    elapsed = time.perf_counter() - t0
    bad = [r.error for r in recs if not r.ok]
    if bad:
        raise SystemExit(f"{len(bad)} calls failed, e.g. {bad[0]}")
    return n / elapsed


def measure(model_fn: Callable[..., Any], concurrency: int, n: int, *, task_cpus: float) -> dict[str, float]:
    import functools

    out: dict[str, float] = {}
    with Executor(max_concurrency=concurrency, inline=False) as ex:
        out["in-process"] = asyncio.run(rate(ex, model_fn, n))
    with RayExecutor(max_concurrency=concurrency, num_cpus_per_call=task_cpus) as ex:
        out["ray tasks"] = asyncio.run(rate(ex, model_fn, n))
    hosted = ray_actor_model(functools.partial(Hosted, model_fn), num_cpus=0, max_concurrency=concurrency).start()
    try:
        with RayExecutor(max_concurrency=concurrency) as ex:
            out["ray actor"] = asyncio.run(rate(ex, hosted, n))
    finally:
        hosted.shutdown()
    return out


def main() -> None:
    import functools

    import ray

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=160)
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--cpu-ms", type=float, default=20.0)
    p.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    p.add_argument("--num-cpus", type=int, default=2)
    p.add_argument("--address", default=None, help="an existing cluster (default: start a local one)")
    args = p.parse_args()
    t0 = time.perf_counter()
    if args.address:
        ray.init(address=args.address, log_to_driver=False)
    else:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 0))
    print(f"Ray started in {time.perf_counter() - t0:.1f} s; cluster CPUs: {cpus}; {args.calls} calls per cell")
    rows = []
    for label, fn, task_cpus in (
        (f"latency {args.latency * 1000:g} ms", functools.partial(sleepy, args.latency), 0.0),
        (f"CPU {args.cpu_ms:g} ms", functools.partial(busy, args.cpu_ms), 1.0),
    ):
        for c in args.concurrency:
            r = measure(fn, c, args.calls, task_cpus=task_cpus)
            rows.append((label, c, task_cpus, r))
    print(f"{'model':<16} {'conc':>4} {'task cpus':>9} {'in-process/s':>12} {'ray tasks/s':>11} {'ratio':>6} "
          f"{'ray actor/s':>11} {'ratio':>6}")
    for label, c, task_cpus, r in rows:
        base = r["in-process"]
        print(f"{label:<16} {c:>4} {task_cpus:>9g} {base:>12.1f} {r['ray tasks']:>11.1f} {r['ray tasks'] / base:>6.2f} "
              f"{r['ray actor']:>11.1f} {r['ray actor'] / base:>6.2f}")
    ray.shutdown()


if __name__ == "__main__":
    main()
