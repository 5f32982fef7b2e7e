"""Stopping rules on real recorded LLM results (Open LLM Leaderboard v1, 1989 models x 493 questions).

Each recorded model answers question j with its recorded 0/1. For random model pairs (and a few
random 7-model rankings) every rule replays the questions in a seeded random order, and we compare
its verdict with the full run's (the sign of the total paired difference over all questions).
Then the engine's own overhead: microseconds per paired binary update and milliseconds per stopping
check (incl. the confidence sequence) at n = 1e5, next to the posterior rule's check as the baseline.

    python perf/leaderboard_rules.py --data DIR [--pairs 300 --seed 0 --batch 1]

The data: per-question results of the public Hugging Face Open LLM Leaderboard (v1) "details", one CSV per
benchmark (``.csv`` or ``.csv.gz``) in DIR, each with a header ``model,<question id>,...``, one row per model
(its Hugging Face id) and 0/1 per question (1 = answered correctly). The files are joined on ``model``
(models present in every file), questions in file-name order. The README's table used the tinyBenchmarks
anchor questions of five benchmarks (M_tinyarc, M_tinygsm8k, M_tinyhellaswag, M_tinytruthfulqa,
M_tinywinogrande: 1989 models x 493 questions), which the team keeps in ../shared/data/open-llm-leaderboard-v1
beside the repository (the default DIR); that copy is for development only and is never put in the repository.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import sys
import time
from pathlib import Path
from typing import IO

import numpy as np

from bayesbench.stats import EngineConfig, PairedSequentialTest, RankingRace, make_pair_test
from bayesbench.stats._posteriors import beta_prob_greater

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "open-llm-leaderboard-v1"
RULES = ["anytime", "full_benchmark", "posterior", "fixed"]
LAYOUT = (
    "one CSV per benchmark (.csv or .csv.gz), header 'model,<question id>,...', one row per model, 0/1 per question"
)


class DataError(Exception):
    """The --data directory is missing or a file in it is not in the leaderboard layout."""


def data_files(data_dir: Path) -> list[Path]:
    """The leaderboard files in ``data_dir``, sorted by name."""
    if not data_dir.is_dir():
        raise DataError(
            f"--data {data_dir} is not a directory. Pass --data DIR with the Open LLM Leaderboard v1 per-question "
            f"results ({LAYOUT}); the team's copy is ../shared/data/open-llm-leaderboard-v1 beside the repository"
        )
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and p.name.endswith((".csv", ".csv.gz")))
    if not files:
        raise DataError(f"--data {data_dir} holds no .csv or .csv.gz files; expected {LAYOUT}")
    return files


def _open(path: Path) -> IO[str]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", newline="")
    return open(path, newline="")


def read_table(path: Path) -> dict[str, np.ndarray]:
    """One file as ``{model: 0/1 vector}``; a clear ``DataError`` for anything not in the layout."""
    with _open(path) as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if not header or header[0].strip().lower() != "model" or len(header) < 2:
            raise DataError(f"{path}: the first row must be 'model,<question id>,...', got {str(header)[:80]}")
        table = {}
        for line, row in enumerate(rows, start=2):
            if len(row) != len(header):
                raise DataError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            values = row[1:]
            if any(v not in ("0", "1") for v in values):
                bad = next(v for v in values if v not in ("0", "1"))
                raise DataError(f"{path}:{line}: every question value must be 0 or 1, got {bad!r}")
            table[row[0]] = np.asarray(values, dtype=np.int8)
    if not table:
        raise DataError(f"{path} has a header but no model rows")
    return table


def load(data_dir: Path) -> tuple[list[str], np.ndarray]:
    """Join the files on `model`: (model names, (models, questions) 0/1 matrix)."""
    tables = [read_table(path) for path in data_files(data_dir)]
    common = sorted(set.intersection(*(set(t) for t in tables)))
    if len(common) < 2:
        raise DataError(f"--data {data_dir}: only {len(common)} model(s) appear in every file; need at least 2")
    matrix = np.stack([np.concatenate([t[m] for t in tables]) for m in common])
    return common, matrix


def full_verdict(a: np.ndarray, b: np.ndarray) -> str:
    s = int(a.sum()) - int(b.sum())
    return "A" if s > 0 else "B" if s < 0 else "EQUIVALENT"


def run_pair(rule: str, a: np.ndarray, b: np.ndarray, order: np.ndarray, batch: int, seed: int) -> tuple[str, int]:
    n = a.shape[0]
    t = make_pair_test(
        rule,
        EngineConfig(bank_size=n),
        confidence=0.95,
        skip_threshold=0.85,  # the original rule as shipped
        min_samples=3,
        posterior_factory=None,
        seed=seed,
    )
    fa, fb = a[order].astype(float), b[order].astype(float)
    d = t.decision
    for i in range(0, n, batch):
        d = t.update(fa[i : i + batch].tolist(), fb[i : i + batch].tolist())
        if d.stopped:
            break
    if not d.stopped:
        d = t.close()
    return d.status, d.n


def pairs_table(matrix: np.ndarray, n_pairs: int, seed: int, batch: int) -> None:
    rng = np.random.default_rng(seed)
    n_models, n_q = matrix.shape
    results: dict[str, list[tuple[str, int, str]]] = {r: [] for r in RULES}
    t0 = time.perf_counter()
    for k in range(n_pairs):
        i, j = rng.choice(n_models, 2, replace=False)
        order = rng.permutation(n_q)
        truth = full_verdict(matrix[i], matrix[j])
        for rule in RULES:
            status, used = run_pair(rule, matrix[i], matrix[j], order, batch, seed * 100003 + k)
            results[rule].append((status, used, truth))
    elapsed = time.perf_counter() - t0
    print(f"\n## Pairs: {n_pairs} seeded random model pairs, {n_q} questions, batch {batch}, seed {seed}")
    print(f"(full-run verdict = sign of the summed paired difference over all {n_q} questions)\n")
    head = f"{'rule':<15} {'problems used':>14} {'% of full':>10} {'agreement':>10} {'agree|decided':>14} " \
           f"{'wrong winner':>13} {'undecided':>10} {'equivalent':>11}"
    print(head)
    print("-" * len(head))
    for rule in RULES:
        rows = results[rule]
        used = np.array([u for _, u, _ in rows])
        status = [s for s, _, _ in rows]
        truth = [t for _, _, t in rows]
        agree = np.mean([s == t for s, t in zip(status, truth)])
        decided = [(s, t) for s, t in zip(status, truth) if s != "UNDECIDED"]
        agree_dec = np.mean([s == t for s, t in decided]) if decided else float("nan")
        wrong = np.mean([s in ("A", "B") and s != t for s, t in zip(status, truth)])
        und = np.mean([s == "UNDECIDED" for s in status])
        eq = np.mean([s == "EQUIVALENT" for s in status])
        print(
            f"{rule:<15} {used.mean():>14.1f} {100 * used.mean() / n_q:>9.1f}% {100 * agree:>9.1f}% "
            f"{100 * agree_dec:>13.1f}% {100 * wrong:>12.1f}% {100 * und:>9.1f}% {100 * eq:>10.1f}%"
        )
    ties = np.mean([t == "EQUIVALENT" for _, _, t in results["anytime"]])
    print(f"\n(exact ties in the full run: {100 * ties:.1f}% of pairs; replay time {elapsed:.1f} s)")


def ranking_table(matrix: np.ndarray, seeds: list[int], k: int, batch: int) -> None:
    n_models, n_q = matrix.shape
    print(f"\n## Rankings: {k} random models, {len(seeds)} seeds, batch {batch}")
    head = f"{'rule':<15} {'seed':>4} {'model-problems':>15} {'% of full':>10} {'claims':>7} " \
           f"{'wrong claims':>13} {'pairs resolved':>15} {'= full order':>13}"
    print(head)
    print("-" * len(head))
    for rule in ("anytime", "full_benchmark", "fixed"):
        for seed in seeds:
            rng = np.random.default_rng(10_000 + seed)
            idx = rng.choice(n_models, k, replace=False)
            order = rng.permutation(n_q)
            names = [f"m{i}" for i in idx]
            data = {nm: matrix[i][order].astype(float) for nm, i in zip(names, idx)}
            cfg = EngineConfig(target="full_benchmark", bank_size=n_q) if rule == "full_benchmark" else EngineConfig()
            race = RankingRace(names, cfg, goal="rank", rule="fixed" if rule == "fixed" else "anytime")
            for s in range(0, n_q, batch):
                if race.done():
                    break
                race.update({m: data[m][s : s + batch] for m in race.active_models()})
            claims = race.close()
            asked = sum(race.n().values())  # type: ignore[union-attr]
            means = {m: v.mean() for m, v in data.items()}
            wrong = sum(means[a] <= means[b] for a, b in claims)
            full = {(a, b) for a, b in itertools.permutations(names, 2) if means[a] > means[b]}
            pairs = k * (k - 1) // 2
            resolved = len(claims) + len(race.equivalent_pairs())
            print(
                f"{rule:<15} {seed:>4} {asked:>15} {100 * asked / (k * n_q):>9.1f}% {len(claims):>7} "
                f"{wrong:>13} {resolved:>7}/{pairs:<7} {str(claims == full):>13}"
            )


def overhead_table(seed: int) -> None:
    print("\n## Engine overhead (binary scores, n = 1e5 before timing)")
    print("(equal models whose discordant pairs alternate 10/01, so the test never stops and both CS ends")
    print(" keep moving: the worst case for the per-update cost; 30 % discordant pairs)")
    rng = np.random.default_rng(seed)
    n0 = 100_000
    n = n0 + 40_000
    z = np.zeros(n, dtype=int)
    disc = np.flatnonzero(rng.random(n) < 0.3)
    z[disc] = np.where(np.arange(disc.size) % 2 == 0, 1, -1)
    both = (rng.random(n) < 0.6).astype(float)
    a = np.where(z == 1, 1.0, np.where(z == -1, 0.0, both))
    b = np.where(z == 1, 0.0, np.where(z == -1, 1.0, both))

    def primed() -> PairedSequentialTest:
        t = PairedSequentialTest(EngineConfig())
        for i in range(0, n0, 1000):
            t.update(a[i : i + 1000], b[i : i + 1000])
        return t

    rows = []
    for batch in (1, 8, 64):
        t = primed()
        items = 20_000 if batch == 1 else 40_000
        al, bl = a[n0 : n0 + items].tolist(), b[n0 : n0 + items].tolist()
        start = time.perf_counter()
        for i in range(0, items, batch):
            t.update(al[i : i + batch], bl[i : i + batch])
        per_item = (time.perf_counter() - start) / items * 1e6
        per_call = per_item * batch / 1e3
        rows.append((batch, per_item, per_call, t.decision.status))
    # one stopping check from scratch (CS ends reset to ±1, so both ends are re-solved) at n = 1e5
    t = primed()
    reps = 200
    start = time.perf_counter()
    for _ in range(reps):
        t._set_end(t._S, -1.0)
        t._set_end(t._S + 1, 1.0)
        t._update_cs(force=True)
        t._decide(np.full(t._S, -1))
    cold = (time.perf_counter() - start) / reps * 1e3
    # baseline: the original rule's check, P(p_A > p_B) for two Beta posteriors at n = 1e5
    sa, sb = a[:n0].sum(), b[:n0].sum()
    start = time.perf_counter()
    for _ in range(reps):
        beta_prob_greater(0.5 + sa, 0.5 + n0 - sa, 0.5 + sb, 0.5 + n0 - sb)
    post = (time.perf_counter() - start) / reps * 1e3
    head = f"{'what':<52} {'value':>10} {'ratio to posterior check':>25}"
    print(head)
    print("-" * len(head))
    for batch, per_item, per_call, status in rows:
        print(f"{f'update, batch {batch}: µs per paired binary update':<52} {per_item:>10.1f} "
              f"{per_call / post:>24.2f}x   ({per_call:.3f} ms per update() call incl. check; {status})")
    print(f"{'stopping check incl. CS from scratch at n=1e5 (ms)':<52} {cold:>10.3f} {cold / post:>24.2f}x")
    print(f"{'baseline: posterior rule check P(pA>pB), n=1e5 (ms)':<52} {post:>10.3f} {1.0:>24.2f}x")
    print(f"\ntargets: <= 20 µs per update, <= 1 ms per check at n = 1e5  (cpu count {_cpus()})")


def _cpus() -> str:
    import os

    return str(os.cpu_count())


def main(argv: list[str] | None = None) -> int:
    doc = __doc__ or ""
    p = argparse.ArgumentParser(
        description=doc.split("\n\n")[0], epilog=doc[doc.index("The data:"):],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pairs", type=int, default=300, help="random model pairs replayed by every rule (default 300)")
    p.add_argument("--seed", type=int, default=0, help="seeds the pairs, the orders and the rankings (default 0)")
    p.add_argument("--batch", type=int, default=1, help="problems per update (the run loop uses 8)")
    p.add_argument("--models", type=int, default=7, help="models per ranking (6-8)")
    p.add_argument("--rank-seeds", type=int, default=3, help="rankings per rule (default 3)")
    p.add_argument("--data", type=Path, default=DATA, metavar="DIR",
                   help=f"the leaderboard files ({LAYOUT}); default: {DATA}")
    p.add_argument("--skip-overhead", action="store_true", help="skip the engine-overhead timing table")
    args = p.parse_args(argv)
    try:
        names, matrix = load(args.data)
    except DataError as exc:
        print(f"leaderboard_rules: {exc}", file=sys.stderr)
        return 2
    print(f"# leaderboard_rules: {matrix.shape[0]} models x {matrix.shape[1]} questions")
    pairs_table(matrix, args.pairs, args.seed, args.batch)
    ranking_table(matrix, list(range(args.seed, args.seed + args.rank_seeds)), args.models, args.batch)
    if not args.skip_overhead:
        overhead_table(args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
