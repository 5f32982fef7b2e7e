"""The planner's predicted problems-to-decision against independent replayed runs, and what its cache saves.

    python perf/plan_check.py [--gaps 0.05,0.1,0.2 --base 0.6 --sims 400 --reps 200 --bank 6000]

For each gap at base rate ``--base`` (independent errors, batch 8, min_samples 3, confidence 0.95):
``bayesbench.plan`` (seed 0, ``--sims`` simulated runs of the engine) against ``--reps`` replays through the
public ``bayesbench.compare`` on freshly drawn 0/1 scores (seed 777, shuffle seeds 10000+i): mean and 90th
percentile of the problems used, their ratio (the baseline is the replay), the Monte-Carlo SE of the ratio,
the fixed-n exact McNemar sample size for power 0.8, and the planner's time cold vs from its disk cache.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.plan.test_plan_replay import replay_pair  # noqa: E402  (the replay the tests check against)

import bayesbench  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gaps", default="0.05,0.1,0.2")
    ap.add_argument("--base", type=float, default=0.6)
    ap.add_argument("--sims", type=int, default=400)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--bank", type=int, default=6000)
    args = ap.parse_args()
    os.environ["BAYESBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="bayesbench-plan-check-")
    import scipy.stats  # noqa: F401  (loaded before timing: the first plan would otherwise pay for it)

    print(f"base rate {args.base}, bank {args.bank}, planner {args.sims} sims (seed 0), {args.reps} replays "
          "(bayesbench.compare, seed 777)")
    head = (f"{'gap':>5} {'pred mean':>9} {'replay mean':>11} {'ratio':>6} {'±SE':>6} {'pred p90':>8} "
            f"{'replay p90':>10} {'McNemar n':>9} {'cold s':>7} {'cached s':>8} {'speedup':>8}")
    print(head)
    print("-" * len(head))
    for gap in (float(g) for g in args.gaps.split(",")):
        kw = dict(gap=gap, base_rate=args.base, n_problems=args.bank, batch_size=8, min_samples=3, n_sims=args.sims)
        t0 = time.perf_counter()
        p = bayesbench.plan(**kw)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = bayesbench.plan(**kw)
        warm = time.perf_counter() - t0
        assert again.cached
        used = replay_pair(gap, args.base, args.bank, args.reps, seed=777)
        mean = used.mean()
        pred = p.sequential["expected_problems"]
        se = (pred / mean) * math.hypot(p.sequential["mc_se_expected_problems"] / pred,
                                        used.std(ddof=1) / math.sqrt(len(used)) / mean)
        print(f"{gap:5.2f} {pred:9.0f} {mean:11.0f} {pred / mean:6.3f} {se:6.3f} {p.sequential['p90_problems']:8.0f} "
              f"{np.quantile(used, 0.9):10.0f} {p.fixed['problems']:9d} {cold:7.2f} {warm:8.3f} {cold / warm:7.0f}x")


if __name__ == "__main__":
    main()
