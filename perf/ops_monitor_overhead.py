"""What the resource monitor costs a run: the same runs with and without it, and the cost of one sample.

    python perf/ops_monitor_overhead.py [--problems 400] [--repeats 5] [--latency 0.002]

Each run compares two models on ``--problems`` problems with rule="fixed" (every problem asked, so both
variants do the same work); a model call sleeps ``--latency`` s and burns ~0.2 ms of CPU (a fast local
model). Runs alternate (off, on, off, on, ...) so drifting machine load hits both; the table gives the
median wall time of each and the ratio on/off, and the monitor's own CPU per sample (0.5 s interval by
default, so a run pays one sample per half second plus the two at start and stop).
"""

from __future__ import annotations

import argparse
import statistics
import time

from bayesbench import BayesianBenchmark
from bayesbench.ops import ResourceMonitor


def model_factory(latency: float):
    def model(problem: int) -> str:
        t = time.process_time()
        while time.process_time() - t < 0.0002:
            pass
        time.sleep(latency)
        return "right" if problem % 3 else "wrong"

    return model


def one_run(monitor: bool, problems: int, latency: float) -> tuple[float, float]:
    """(wall s, CPU s of this process, all threads) of one run."""
    bench = BayesianBenchmark(seed=1, rule="fixed", monitor_resources=monitor, max_concurrency=8)
    t0, c0 = time.perf_counter(), time.process_time()
    bench.compare(model_factory(latency), model_factory(latency), lambda p, r: float(r == "right"),
                  list(range(problems)))
    return time.perf_counter() - t0, time.process_time() - c0


def sample_cost(n: int = 200) -> tuple[float, float]:
    """(wall s, CPU s) of one sample, measured by sampling ``n`` times in a row on this thread."""
    m = ResourceMonitor(interval_s=3600).start()  # the thread sleeps: we call the sampler ourselves
    w0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(n):
        m._sample()
    w, c = (time.perf_counter() - w0) / n, (time.thread_time() - c0) / n
    m.stop()
    return w, c


def start_stop_cost(n: int = 20) -> float:
    """Wall seconds of one monitor's start() + stop() (what every run pays besides the samples)."""
    t0 = time.perf_counter()
    for _ in range(n):
        ResourceMonitor().start().stop()
    return (time.perf_counter() - t0) / n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problems", type=int, default=400)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--latency", type=float, default=0.002)
    args = p.parse_args()
    one_run(True, 20, args.latency)  # warm up imports
    off, on = [], []
    for _ in range(args.repeats):
        off.append(one_run(False, args.problems, args.latency))
        on.append(one_run(True, args.problems, args.latency))
    w, c = sample_cost()
    ss = start_stop_cost()
    wall_off, wall_on = [w for w, _ in off], [w for w, _ in on]
    cpu_off, cpu_on = [c for _, c in off], [c for _, c in on]
    m_off, m_on = statistics.median(wall_off), statistics.median(wall_on)
    c_off, c_on = statistics.median(cpu_off), statistics.median(cpu_on)
    print(f"{'variant':<22} {'median wall s':>13} {'min wall s':>10} {'median CPU s':>12} {'runs':>5}")
    print(f"{'monitor off (baseline)':<22} {m_off:>13.3f} {min(wall_off):>10.3f} {c_off:>12.3f} {len(off):>5}")
    print(f"{'monitor on':<22} {m_on:>13.3f} {min(wall_on):>10.3f} {c_on:>12.3f} {len(on):>5}")
    print(f"ratio on/off: wall {m_on / m_off:.3f} (minima {min(wall_on) / min(wall_off):.3f}), CPU {c_on / c_off:.3f}"
          f"  (runs of {args.problems} problems x 2 models)")
    print(f"one sample: {1e6 * w:.0f} us wall, {1e6 * c:.0f} us CPU (every 0.5 s: {100 * c / 0.5:.3f} % of a core); "
          f"start + stop of a monitor: {1000 * ss:.1f} ms wall")


if __name__ == "__main__":
    main()
