"""The deployment comparison of the two local LLMs: SmolLM2-135M vs Gemma-3-270M, each in its own llama.cpp
server (one thread each), on MMLU (0-shot, one problem per subject, the first --problems of the engine's order).

    python perf/ops_deployment_local.py [--problems 40] [--hourly 0.05] [--watts 15] [--usd-per-kwh 0.30]

Prints the DeploymentReport (accuracy with the engine's verdict, latency, throughput, cost per 1 000 problems
and per correct answer, each server's peak RSS and CPU), then a small load test of each server (1, 2, 4 in
flight). The baseline of every ratio is the other model in the same run. Cost: each server is priced as its
share of a small CPU machine (--hourly $/h, --watts W at --usd-per-kwh), an assumption to replace with yours.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx

from bayesbench.benchmarks import MMLU
from bayesbench.demo import gemma_path, smollm2_path
from bayesbench.models import openai_model
from bayesbench.ops import CostModel, compare_deployments


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(path: str, alias: str) -> Iterator[tuple[str, int]]:
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", path, "--model_alias", alias,
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1",
                             "--n_threads_batch", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(base + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama.cpp server for {alias} did not start")
            time.sleep(0.3)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problems", type=int, default=40)
    p.add_argument("--hourly", type=float, default=0.05)
    p.add_argument("--watts", type=float, default=15.0)
    p.add_argument("--usd-per-kwh", type=float, default=0.30)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    bench = MMLU(n_shots=0, n_problems_per_task=1, seed=0,
                 confinement_instructions="Answer with only the letter (A, B, C, or D).")
    cost = CostModel(hourly_usd=args.hourly, watts=args.watts, usd_per_kwh=args.usd_per_kwh)
    with ExitStack() as stack:
        smol_url, smol_pid = stack.enter_context(llama_server(smollm2_path(), "smollm2-135m"))
        gemma_url, gemma_pid = stack.enter_context(llama_server(gemma_path(), "gemma-3-270m"))
        models = {"smollm2-135m": openai_model("smollm2-135m", base_url=smol_url, max_tokens=4),
                  # Gemma-3-270M is a base model: plain completion, as in perf/local_models_accuracy.py
                  "gemma-3-270m": openai_model("gemma-3-270m", base_url=gemma_url, max_tokens=4, mode="completion")}
        t0 = time.perf_counter()
        report = compare_deployments(models, benchmark=bench, seed=args.seed, max_problems=args.problems,
                                     max_concurrency=2, cost_models={m: cost for m in models},
                                     server_pids={"smollm2-135m": smol_pid, "gemma-3-270m": gemma_pid},
                                     loadtest_concurrency=[1, 2, 4], loadtest_requests=8)
        wall = time.perf_counter() - t0
    print(report.summary())
    for lt in report.loadtests.values():
        print()
        print(lt.summary())
    smol, gemma = report.entry("smollm2-135m"), report.entry("gemma-3-270m")
    print()
    print(f"ratios gemma/smollm2: latency p50 {gemma['latency_p50_s'] / smol['latency_p50_s']:.2f}, "
          f"throughput {gemma['throughput_rps'] / smol['throughput_rps']:.2f}, "
          f"peak RSS {gemma['peak_rss_bytes'] / smol['peak_rss_bytes']:.2f}")
    for e in (smol, gemma):
        print(f"{e['model']}: ${e['cost_per_1000_at_capacity']:.4f} per 1000 requests on dedicated hardware at its "
              f"best load-test throughput ({e['throughput_rps']:.2f} req/s, knee {e['knee_concurrency']})")
    print(f"total wall time of the comparison + load tests: {wall:.0f} s")


if __name__ == "__main__":
    main()
