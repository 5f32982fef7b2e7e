"""What recording the stopping path (TaskResult.stopping_path) costs the engine, against not recording it.

    python perf/stopping_path_overhead.py [--problems 20000] [--batch-size 8] [--repeats 7]

Replays ``--problems`` paired 0/1 scores of two equal models (no early stop: every batch is fed) through
``PairRun`` as ``bayesbench.compare`` does, once with the path recorded (the shipped ``PairRun._update``)
and once with the pre-path ``_update`` (the same method without its one list append per batch), alternating,
in one process; best of ``--repeats`` each. The ratio recorded / not recorded is the figure to compare
(a loaded machine slows both); per_call_overhead.py shows the whole front door next to a plain loop.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from bayesbench.engine import RunSettings  # noqa: E402
from bayesbench.engine._loop import batch_boundaries  # noqa: E402
from bayesbench.engine._pair import PairRun  # noqa: E402
from bayesbench.engine._replay import replay_pair  # noqa: E402

RECORDING = PairRun._update


def not_recording(self, rows):
    """PairRun._update as it was before the stopping path was kept."""
    ids = [i for i, _, _ in rows]
    a = [x for _, x, _ in rows]
    b = [y for _, _, y in rows]
    self.fed_ids.extend(ids)
    self.scores_a.extend(a)
    self.scores_b.extend(b)
    self.decision = self.test.update(a, b)
    return a, b


def one(a, b, settings, update) -> float:
    PairRun._update = update
    try:
        t0 = time.process_time()
        result = replay_pair(a, b, settings, settings.posteriors)
        return time.process_time() - t0, result
    finally:
        PairRun._update = RECORDING


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=20000)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    a = list((rng.random(args.problems) < 0.5).astype(float))
    b = list(a)  # equal models: never stops, every batch is fed
    settings = RunSettings(seed=0, batch_size=args.batch_size)
    times = {"not recorded": [], "recorded": []}
    for _ in range(args.repeats):
        t, r = one(a, b, settings, not_recording)
        times["not recorded"].append(t)
        t, r = one(a, b, settings, RECORDING)
        times["recorded"].append(t)
    expected = len(batch_boundaries(args.problems, settings.batch_size, settings.min_samples))
    assert r.problems_tested == args.problems and len(r.stopping_path) == expected
    base = min(times["not recorded"])
    batches = len(r.stopping_path)
    print(f"{args.problems} problems in {batches} batches of {args.batch_size}, best of {args.repeats} (CPU time); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'engine update':<28} {'µs/problem':>11} {'µs/batch':>9} {'vs not recorded':>16}")
    for name, ts in times.items():
        best = min(ts)
        print(f"{name:<28} {best / args.problems * 1e6:>11.2f} {best / batches * 1e6:>9.1f} {best / base:>15.3f}x")


if __name__ == "__main__":
    main()
