"""Throughput of a whole comparison run (engine + executor) against a local server with 50 ms latency.

    python perf/engine_throughput.py [--latency 0.05]

For each concurrency, a two-model comparison with ``rule="fixed"`` (no early stop) over 40 x concurrency
problems: calls/s as a fraction of the ideal (concurrency / latency), against the original bayesbench's
two calls in flight as the baseline (ratio). Then an early-stopping run at concurrency 32: the calls
made beyond the problems the decision used (the look-ahead overshoot), which must stay within one batch.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RawHttpModel, latency_server  # noqa: E402
from bayesbench import BayesianBenchmark  # noqa: E402


def problems(n: int) -> list[dict]:
    return [{"question": f"q{i}", "id": i} for i in range(n)]


def score(problem: dict, response: str) -> float:
    # model_a is "right" everywhere, model_b on even problems (the server echoes the prompt)
    return 1.0 if response.startswith("answer to A") or problem["id"] % 2 == 0 else 0.0


async def run(url: str, concurrency: int, batch: int, n: int, rule: str) -> tuple[float, int, int]:
    a, b = RawHttpModel(url), RawHttpModel(url)

    async def model_a(p: dict) -> str:
        return await a("A" + p["question"])

    async def model_b(p: dict) -> str:
        return await b("B" + p["question"])

    bench = BayesianBenchmark(seed=0, rule=rule, max_concurrency=concurrency, batch_size=batch)
    t0 = time.perf_counter()
    result = await bench.compare_async(model_a, model_b, score, problems(n))
    elapsed = time.perf_counter() - t0
    await a.aclose()
    await b.aclose()
    return result.model_calls / elapsed, result.model_calls, result.problems_tested


async def main(latency: float) -> None:
    with latency_server(latency) as url:
        base_rate, _, _ = await run(url, 2, 1, 80, "fixed")
        print(f"{'concurrency':>11} {'batch':>6} {'calls':>6} {'calls/s':>8} {'ideal':>7} {'% ideal':>8} "
              f"{'vs 2 in flight':>15}")
        print(f"{2:>11} {1:>6} {'':>6} {base_rate:>8.1f} {2 / latency:>7.0f} {base_rate * latency / 2:>8.1%} "
              f"{'1.0x (baseline)':>15}")
        for conc in (8, 32, 128):
            batch = max(1, conc // 2)
            rate, calls, _ = await run(url, conc, batch, 40 * conc, "fixed")
            ideal = conc / latency
            print(f"{conc:>11} {batch:>6} {calls:>6} {rate:>8.1f} {ideal:>7.0f} {rate / ideal:>8.1%} "
                  f"{rate / base_rate:>14.1f}x")
        rate, calls, used = await run(url, 32, 16, 4000, "anytime")
        overshoot = calls // 2 - used
        print(f"\nearly stopping at concurrency 32, batch 16: decision after {used} problems, {calls} calls made, "
              f"overshoot {overshoot} problems (limit: one batch = 16)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    asyncio.run(main(parser.parse_args().latency))
