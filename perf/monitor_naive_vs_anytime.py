"""Regression alerts over time: the naive rule vs the monitor's anytime-valid lifetime test, side by side.

    python perf/monitor_naive_vs_anytime.py [--reps 200 --pool 1000 --items 100 --seed 0]

One simulated monitor: a pool of ``--pool`` items, a baseline run over the whole pool, then one scheduled run a
day of ``--items`` items drawn with replacement from the pool (bayesbench.monitor's rotation). Two models:

* deterministic (temperature 0): each item is right or wrong, fixed; accuracy 0.70 on the pool;
* stochastic (sampling): item i is right with probability q_i ~ Beta(2.33, 1) (mean 0.70), fresh every run;
  its baseline run is one draw, so the baseline itself is noisy.

Rules:

* naive: alert when a run's accuracy is more than 5 % below the mean of the previous 7 runs ("7-day mean");
* anytime: ``RegressionDetector`` (margin 2 points, alpha 0.05, lifetime) on the paired per-item differences
  baseline - new; for the stochastic model also with ``account_baseline_noise`` (margin + Hoeffding bound of
  the baseline's own noise, alpha/2 each: the unconditional guarantee).

Columns: false alarms per 100 runs of the unchanged model (alerting runs; the anytime alert is sticky, so at
most 1), the share of 100-run lifetimes with any false alarm (Monte-Carlo SE in brackets), and for a real
5-point drop after 30 quiet runs the median runs from the drop to the first alert (and the share detected within
300 runs). The last lines give the ratios naive / anytime.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from bayesbench.monitor import RegressionDetector, baseline_noise_margin

ALPHA, MARGIN, DROP, QUIET, HORIZON = 0.05, 0.02, 0.05, 30, 300


class World:
    """One model on one pool: per-item success probabilities now and after the drop, and its baseline run."""

    def __init__(self, rng: np.random.Generator, pool: int, stochastic: bool) -> None:
        if stochastic:
            q = rng.beta(7 / 3, 1.0, pool)
            self.base = (rng.random(pool) < q).astype(float)
        else:
            q = (rng.random(pool) < 0.70).astype(float)
            self.base = q.copy()
        self.q = q
        # the drop: the pool mean falls by exactly DROP; the lost probability comes from random items
        self.q_drop = q.copy()
        need = DROP * pool
        for i in rng.permutation(pool):
            take = min(float(q[i]), need)
            self.q_drop[i] -= take
            need -= take
            if need <= 1e-12:
                break

    def run(self, rng: np.random.Generator, k: int, dropped: bool) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, scores) of one scheduled run."""
        i = rng.integers(0, self.q.size, k)
        q = self.q_drop if dropped else self.q
        return i, (rng.random(k) < q[i]).astype(float)


def naive_alerts(scores: list[float]) -> list[bool]:
    out = []
    for t, s in enumerate(scores):
        past = scores[max(0, t - 7):t]
        out.append(len(past) == 7 and s < 0.95 * float(np.mean(past)))
    return out


def lifetime(rng: np.random.Generator, w: World, k: int, runs: int, drop_at: int | None, detector: str) -> \
        tuple[list[bool], list[bool]]:
    """Naive and anytime alert flags per run (the anytime flag is the sticky lifetime alarm)."""
    margin, alpha = MARGIN, ALPHA
    if detector == "anytime+noise":
        margin, alpha = MARGIN + baseline_noise_margin(w.q.size, ALPHA), ALPHA / 2
    det = RegressionDetector(alpha=alpha, margin=margin)
    accs, any_flags = [], []
    for t in range(1, runs + 1):
        i, s = w.run(rng, k, drop_at is not None and t >= drop_at)
        accs.append(float(s.mean()))
        any_flags.append(det.update(w.base[i] - s).alarm)
    return naive_alerts(accs), any_flags


def measure(args: argparse.Namespace, stochastic: bool, detector: str) -> dict[str, float]:
    rng = np.random.default_rng([args.seed, int(stochastic), len(detector)])
    fa_naive, fa_any, life_naive, life_any = [], [], [], []
    for _ in range(args.reps):
        w = World(rng, args.pool, stochastic)
        nv, an = lifetime(rng, w, args.items, 100, None, detector)
        fa_naive.append(sum(nv))
        fa_any.append(int(any(an)))
        life_naive.append(any(nv))
        life_any.append(any(an))
    d_naive, d_any = [], []
    for _ in range(max(20, args.reps // 2)):
        w = World(rng, args.pool, stochastic)
        nv, an = lifetime(rng, w, args.items, QUIET + HORIZON, QUIET + 1, detector)
        for flags, out in ((nv, d_naive), (an, d_any)):
            after = [t for t, f in enumerate(flags[QUIET:], start=1) if f]
            quiet_alarm = any(flags[:QUIET])  # an alarm before the drop is a false one; delay from the drop on
            out.append(after[0] if after and not (flags is an and quiet_alarm) else math.inf)
    return {"fa_naive": float(np.mean(fa_naive)), "fa_any": float(np.mean(fa_any)),
            "life_naive": float(np.mean(life_naive)), "life_any": float(np.mean(life_any)),
            "delay_naive": float(np.median(d_naive)), "delay_any": float(np.median(d_any)),
            "det_naive": float(np.mean(np.isfinite(d_naive))), "det_any": float(np.mean(np.isfinite(d_any))),
            "n": args.reps}


def _fmt_delay(x: float) -> str:
    return "never" if math.isinf(x) else f"{x:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--pool", type=int, default=1000)
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    for stochastic, detector in ((False, "anytime"), (True, "anytime"), (True, "anytime+noise")):
        m = measure(args, stochastic, detector)
        model = "stochastic" if stochastic else "deterministic"

        def se(p: float, n: int = m["n"]) -> float:
            return math.sqrt(max(p * (1 - p), 1e-12) / n)

        rows.append((model, "naive (5 % below 7-day mean)", f"{m['fa_naive']:.1f}",
                     f"{m['life_naive']:.2f} ({se(m['life_naive']):.2f})", _fmt_delay(m["delay_naive"]),
                     f"{m['det_naive']:.2f}"))
        rows.append((model, f"{detector} (margin 2 pts, alpha 0.05)", f"{m['fa_any']:.2f}",
                     f"{m['life_any']:.3f} ({se(m['life_any']):.3f})", _fmt_delay(m["delay_any"]),
                     f"{m['det_any']:.2f}"))
        rows.append((model, "ratio naive / anytime",
                     f"inf (anytime: 0 of {m['n']} lifetimes)" if m["fa_any"] == 0 else
                     f"{m['fa_naive'] / m['fa_any']:.0f}x",
                     "", f"{m['delay_naive'] / m['delay_any']:.2f}" if math.isfinite(m["delay_any"]) else "-", ""))
    head = ("model", "rule", "false alarms / 100 runs", "P(any FA in 100 runs)", "runs to detect 5-pt drop",
            "detected <= 300 runs")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print(f"pool {args.pool} items, {args.items} items per run, {args.reps} lifetimes per cell, seed {args.seed}")
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
