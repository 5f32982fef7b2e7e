"""History-tuned betting grid vs the default grid, and recorded models as free opponents.

On the Open LLM Leaderboard v1 bank (5 files joined), the same model split as history_estimate.py:
1. ``history_mixture`` is built from the 80 % training models only; on random pairs of *held-out*
   models, the paired e-process (generalization target, batches of 8, items in a seeded random order)
   runs with the default grid and with the history grid on the same orders: problems to a verdict,
   verdicts reached, and verdicts that disagree with the full-bank sign.
2. Paired case through the real front door: a held-out model (a function answering from its row)
   against a recorded training model (``bank.model(...)``) vs the same comparison with both sides
   called: model calls and problems to the verdict.

    python perf/history_mixture.py [--pairs 300] [--front-door 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bayesbench import BayesianBenchmark
from bayesbench.history import history_mixture, with_recorded
from bayesbench.stats import EngineConfig, PairedSequentialTest
from history_estimate import load_bank


def run_pair(cfg: EngineConfig, a: np.ndarray, b: np.ndarray, batch: int = 8) -> tuple[str, int]:
    t = PairedSequentialTest(cfg)
    d = t.decision
    for s in range(0, len(a), batch):
        d = t.update(a[s:s + batch], b[s:s + batch])
        if d.status in ("A", "B"):
            return d.status, d.n
    return "UNDECIDED", len(a)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--front-door", type=int, default=30)
    args = ap.parse_args()
    bank = load_bank()
    rng = np.random.default_rng(0)
    perm = rng.permutation(bank.n_models)
    n_test = bank.n_models // 5
    test = [bank.models[i] for i in perm[:n_test]]
    train = bank.filter(models=[bank.models[i] for i in perm[n_test:]])
    t0 = time.perf_counter()
    mix = history_mixture(train, seed=0)
    print(f"history grid from {train.n_models} training models in {time.perf_counter() - t0:.2f} s: "
          f"{', '.join(f'{x:.3g}' for x in mix.lambdas)}; {mix.stats}")
    default = EngineConfig()
    tuned = mix.config()
    prng = np.random.default_rng(1)
    rows = {"default": [], "history": []}
    for _ in range(args.pairs):
        i, j = prng.choice(len(test), 2, replace=False)
        a, b = bank.row(test[i]), bank.row(test[j])
        order = prng.permutation(bank.n_items)
        full = np.sign(np.sum(a - b))
        for name, cfg in (("default", default), ("history", tuned)):
            status, n = run_pair(cfg, a[order], b[order])
            wrong = status in ("A", "B") and (1 if status == "A" else -1) != full
            rows[name].append((status != "UNDECIDED", n, wrong))
    both = [k for k in range(args.pairs) if rows["default"][k][0] and rows["history"][k][0]]
    print(f"\n{args.pairs} random pairs of held-out models, {bank.n_items} items each, alpha 0.05")
    print(f"{'grid':<8} {'decided':>8} {'mean n (all)':>13} {'mean n (both decided)':>22} {'wrong':>6}")
    for name in ("default", "history"):
        r = rows[name]
        print(f"{name:<8} {np.mean([x[0] for x in r]):8.3f} {np.mean([x[1] for x in r]):13.1f} "
              f"{np.mean([r[k][1] for k in both]):22.1f} {sum(x[2] for x in r):6d}")
    if both:
        ratio = np.mean([rows['default'][k][1] for k in both]) / np.mean([rows['history'][k][1] for k in both])
        print(f"default / history problems on pairs both decide: {ratio:.3f}")

    # 2. the paired case through BayesianBenchmark.compare
    problems = [{"id": it} for it in bank.items]

    def score(problem, response):
        return float(response)

    calls_rec = calls_both = n_rec = n_both = agree = 0
    fd = np.random.default_rng(2)
    for k in range(args.front_door):
        new = test[fd.integers(len(test))]
        old = train.models[fd.integers(train.n_models)]
        new_row, old_row = bank.row(new), bank.row(old)
        counter = {"new": 0, "old": 0}

        def new_model(p, row=new_row, counter=counter):
            counter["new"] += 1
            return str(row[bank.item_index(p["id"])])

        def old_model(p, row=old_row, counter=counter):
            counter["old"] += 1
            return str(row[bank.item_index(p["id"])])

        r1 = BayesianBenchmark(seed=k).compare(new_model, train.model(old), with_recorded(score), problems)
        c1 = counter["new"]
        counter["new"] = 0
        r2 = BayesianBenchmark(seed=k).compare(new_model, old_model, score, problems)
        calls_rec += c1
        calls_both += counter["new"] + counter["old"]
        n_rec += r1.problems_tested
        n_both += r2.problems_tested
        agree += r1.winner == r2.winner
    if args.front_door:
        m = args.front_door
        print(f"\nBayesianBenchmark.compare, {m} held-out models vs recorded models (same seeds):")
        print(f"  recorded opponent: {calls_rec / m:.1f} model calls, {n_rec / m:.1f} problems per comparison")
        print(f"  both models called: {calls_both / m:.1f} model calls, {n_both / m:.1f} problems per comparison")
        print(f"  same verdict in {agree}/{m}")


if __name__ == "__main__":
    main()
