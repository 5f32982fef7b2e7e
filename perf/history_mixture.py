"""History-tuned betting grid vs the default grid, and recorded models as free opponents.

On the Open LLM Leaderboard v1 bank (5 files joined), the same model split as history_estimate.py:
1. ``history_mixture`` is built from the 80 % training models only; on random pairs of *held-out*
   models, the paired e-process (generalization target, batches of 8, items in a seeded random order)
   runs with the default grid and with the history grid on the same orders: problems to a verdict,
   verdicts reached, and verdicts that disagree with the full-bank sign.
2. Rankings through the real front door: ``BayesianRanker(seed=k)`` vs ``BayesianRanker(seed=k,
   history=mix)`` (the same problem order) on random sets of held-out models answering from their rows,
   goals "rank" and "top1": model calls and problems to the stop, claims made, rankings fully settled, and
   claims that contradict the full-bank means (wrong claims).
3. Paired case through the real front door: a held-out model (a function answering from its row)
   against a recorded training model (``bank.model(...)``) vs the same comparison with both sides
   called: model calls and problems to the verdict.

    python perf/history_mixture.py [--pairs 300] [--rankings 30] [--ranking-size 4] [--front-door 30]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bayesbench import BayesianBenchmark, BayesianRanker
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


def _row_model(bank, name):
    row = bank.row(name)
    return lambda problem: str(row[bank.item_index(problem["id"])])


def _score(problem, response):
    return float(response)


def run_ranking(bank, names, seed, history, goal):
    """One BayesianRanker race; (model calls, problems to the stop, claims, settled, wrong claims).

    A claim "a > b" is wrong when a's full-bank mean is not above b's."""
    ranker = BayesianRanker(seed=seed, history=history, goal=goal)
    for name in names:
        ranker.add_model(name, _row_model(bank, name))
    res = ranker.rank([{"id": it} for it in bank.items], score_fn=_score)
    means = {n: bank.mean(n) for n in names}
    wrong = sum(means[a] <= means[b] for a, b in res.claims)
    settled = res.stop_reason != "bank_exhausted"
    problems = max(m.problems_tested for m in res.ranking)  # problems until the race stopped
    return res.calls_used, problems, len(res.claims), settled, wrong


def _model_sets(bank, test, n_rankings, size, min_gap, seed=3):
    """Seeded random sets of held-out models; with min_gap, only sets whose sorted full-bank means are at
    least min_gap apart (rankings that can settle within the bank)."""
    rng = np.random.default_rng(seed)
    sets = []
    while len(sets) < n_rankings:
        names = [test[i] for i in rng.choice(len(test), size, replace=False)]
        means = np.sort([bank.mean(n) for n in names])
        if min_gap is None or np.all(np.diff(means) >= min_gap):
            sets.append(names)
    return sets


def compare_rankings(bank, test, mix, n_rankings, size, min_gap):
    """Default grid vs history grid on the same sets of held-out models and the same problem orders."""
    for kind, gap in (("random", None), (f"adjacent gaps >= {min_gap:g}", min_gap)):
        sets = _model_sets(bank, test, n_rankings, size, gap)
        for goal in ("rank", "top1"):
            _compare_goal(bank, sets, mix, goal, kind)


def _compare_goal(bank, sets, mix, goal, kind):
    """One table: model calls, problems, claims, settled rankings and wrong claims per grid."""
    n_rankings, size = len(sets), len(sets[0])
    t0 = time.perf_counter()
    out = {"default": [], "history": []}
    for k, names in enumerate(sets):
        out["default"].append(run_ranking(bank, names, k, None, goal))
        out["history"].append(run_ranking(bank, names, k, mix, goal))
    both = [k for k in range(n_rankings) if out["default"][k][3] and out["history"][k][3]]
    print(f"\nBayesianRanker goal={goal!r}: {n_rankings} sets of {size} held-out models ({kind}), "
          f"{bank.n_items} items, confidence 0.95 ({time.perf_counter() - t0:.0f} s)")
    print(f"{'grid':<8} {'calls':>8} {'problems':>9} {'claims':>7} {'settled':>8} "
          f"{'calls (both settled)':>21} {'wrong claims':>13}")
    for name in ("default", "history"):
        r = out[name]
        cb = f"{np.mean([r[k][0] for k in both]):21.1f}" if both else f"{'-':>21}"
        print(f"{name:<8} {np.mean([x[0] for x in r]):8.1f} {np.mean([x[1] for x in r]):9.1f} "
              f"{np.mean([x[2] for x in r]):7.2f} {np.mean([x[3] for x in r]):8.3f} {cb} "
              f"{sum(x[4] for x in r):13d}")
    ratio = np.mean([x[0] for x in out["default"]]) / np.mean([x[0] for x in out["history"]])
    line = f"default / history model calls: {ratio:.3f} (all rankings)"
    if both:
        rb = np.mean([out["default"][k][0] for k in both]) / np.mean([out["history"][k][0] for k in both])
        line += f", {rb:.3f} on the {len(both)} both settle"
    print(line)
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--rankings", type=int, default=30)
    ap.add_argument("--ranking-size", type=int, default=4)
    ap.add_argument("--min-gap", type=float, default=0.08, help="the separated sets' minimum adjacent gap")
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

    if args.rankings:
        compare_rankings(bank, test, mix, args.rankings, args.ranking_size, args.min_gap)

    # 3. the paired case through BayesianBenchmark.compare
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
