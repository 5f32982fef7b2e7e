"""Per-problem overhead of the front door for instant sync models, against a plain loop.

    python perf/per_call_overhead.py [--problems 20000] [--repeats 3]

Runs ``BayesianBenchmark(seed=0).compare(lambda p: 1, lambda p: 1, lambda p, r: r, range(N))`` (two
equal, instant sync models: the run never stops early, so every problem is asked) and reports
µs per problem. The baseline, in the same process and run, is a plain loop that calls the same models
and the same score function and feeds the same ``PairedSequentialTest`` (built by the same
``make_pair_test`` with the run's settings) batch by batch, in the same shuffled order: what the
engine cannot avoid. The ratio front door / baseline is the figure to compare across machines (a
loaded machine slows both); the best of ``--repeats`` runs is shown for each.

Also shown: the same front door run with a SQLite store (every call recorded, the cache filled), so
the price of durability is visible next to the lean path. ``PYTHONPATH=/old/checkout/src python
perf/per_call_overhead.py`` measures another checkout the same way (its figure before this change).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("PYTHONPATH"):  # measure this checkout unless told otherwise (e.g. an old one)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bayesbench import BayesianBenchmark  # noqa: E402
from bayesbench.engine import RunSettings, shuffled_order  # noqa: E402
from bayesbench.engine._loop import batch_boundaries  # noqa: E402
from bayesbench.engine._settings import engine_config  # noqa: E402
from bayesbench.stats import make_pair_test  # noqa: E402


def model_a(p):
    return 1


def model_b(p):
    return 1


def score(p, r):
    return r


def baseline(n: int) -> float:
    """Seconds per problem of the plain loop (same models, score, test, order, batches)."""
    s = RunSettings(seed=0)
    problems = list(range(n))
    t0 = time.perf_counter()
    test = make_pair_test(s.rule, engine_config(s, n), confidence=s.confidence, skip_threshold=s.skip_threshold,
                          min_samples=s.min_samples, posterior_factory=None, seed=s.seed)
    order = shuffled_order(n, 0)
    fed = 0
    for start, end in batch_boundaries(n, s.batch_size, s.min_samples):
        idx = order[start:end]
        a = [float(score(problems[i], model_a(problems[i]))) for i in idx]
        b = [float(score(problems[i], model_b(problems[i]))) for i in idx]
        fed += len(idx)
        if test.update(a, b).status != "CONTINUE":
            break
    elapsed = time.perf_counter() - t0
    assert fed == n, fed
    return elapsed / n


def front_door(n: int, store: str | None = None) -> float:
    bench = BayesianBenchmark(seed=0, store=store)
    t0 = time.perf_counter()
    result = bench.compare(model_a, model_b, score, list(range(n)))
    elapsed = time.perf_counter() - t0
    assert result.problems_tested == n, result.problems_tested
    return elapsed / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--store-problems", type=int, default=2000, help="problems for the run with a store")
    args = ap.parse_args()
    n = args.problems
    base = min(baseline(n) for _ in range(args.repeats))
    lean = min(front_door(n) for _ in range(args.repeats))
    with tempfile.TemporaryDirectory() as tmp:
        stored = min(front_door(args.store_problems, os.path.join(tmp, f"bb{i}.sqlite")) for i in range(args.repeats))
    print(f"two instant sync models, equal (no early stop), best of {args.repeats}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'path':<44} {'problems':>8} {'µs/problem':>11} {'vs baseline':>12}")
    rows = [
        ("baseline: plain loop, same models + test", n, base),
        ("front door, no store", n, lean),
        ("front door, SQLite store (records + cache)", args.store_problems, stored),
    ]
    for name, count, sec in rows:
        print(f"{name:<44} {count:>8} {sec * 1e6:>11.1f} {sec / base:>11.1f}x")


if __name__ == "__main__":
    main()
