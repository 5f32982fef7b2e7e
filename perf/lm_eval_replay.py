"""lm-eval logs through `bayesbench replay`: what the paired sequential test concludes, and with how many
problems, against the full run and against the unpaired comparison lm-eval's own comparator script makes.

Real per-question results (the Open LLM Leaderboard v1, which ran lm-evaluation-harness: 1989 models x 493
questions of tinyArc/GSM8K/HellaSwag/TruthfulQA/Winogrande) are written back as lm-eval ``--log_samples``
output (one folder per model, samples_<task>_*.jsonl + results_*.json), then each seeded random pair is
replayed from those files with ``bayesbench.compare(dir_a, dir_b)``.

    python perf/lm_eval_replay.py [--data DIR] [--pairs 30] [--seed 0] [--confidence 0.95]

Columns: the full run's paired verdict (exact McNemar on all 493 questions), the unpaired two-proportion
z-test on the aggregate accuracies with their standard errors (what lm-eval's comparator computes), and the
sequential engine's verdict with the problems it used.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the lm-eval log writer lives with the tests that check its format

from tests.integrations.lm_eval_format import write_lm_eval_run  # noqa: E402

import bayesbench as bb  # noqa: E402
from bayesbench.history import ItemBank  # noqa: E402
from bayesbench.stats import fixed_n_paired_test  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "open-llm-leaderboard-v1"


def unpaired_z(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p of the z-test on two accuracies with independent standard errors (ignores the pairing)."""
    from scipy import stats

    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if se == 0:
        return 1.0
    return float(2 * stats.norm.sf(abs(a.mean() - b.mean()) / se))


def tasks_of(bank: ItemBank, model: str) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for item, v in zip(bank.items, bank.row(model)):
        m = re.match(r"(.+?)_item(\d+)$", item)
        task, doc = (m.group(1), int(m.group(2))) if m else ("task", len(out.get("task", {})))
        out.setdefault(task, {})[doc] = float(v)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--confidence", type=float, default=0.95)
    args = ap.parse_args()
    files = sorted(args.data.glob("M_*.csv*"))
    if not files:
        sys.exit(f"no leaderboard files (M_*.csv.gz) in {args.data}: pass --data DIR")
    bank = ItemBank.from_csv(*files)
    rng = np.random.default_rng(args.seed)
    alpha = 1 - args.confidence
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.pairs):
            a, b = (bank.models[i] for i in rng.choice(bank.n_models, 2, replace=False))
            dirs = []
            for m in (a, b):
                per_task = tasks_of(bank, m)
                for task, docs in per_task.items():
                    write_lm_eval_run(Path(tmp) / f"pair{k}", m, {task: list(docs.values())}, doc_ids=list(docs))
                dirs.append(Path(tmp) / f"pair{k}" / m.replace("/", "__"))
            t0 = time.perf_counter()
            res = bb.compare(dirs[0], dirs[1], confidence=args.confidence, seed=args.seed + k)
            secs = time.perf_counter() - t0
            xa, xb = bank.row(a), bank.row(b)
            full = fixed_n_paired_test(xa, xb, alpha=alpha)
            p_unpaired = unpaired_z(xa, xb)
            full_verdict = (a if xa.mean() > xb.mean() else b) if full.p_value < alpha else "-"
            seq = res.winner_name or "-"
            rows.append((a, b, xa.mean(), xb.mean(), full.p_value, p_unpaired, full_verdict, seq,
                         res.problems_tested, len(xa), secs))
    short = lambda s: s if len(s) <= 28 else s[:12] + ".." + s[-14:]  # noqa: E731
    print("| pair | acc A | acc B | full paired p | unpaired z p (lm-eval) | full verdict | sequential verdict "
          "| problems used | read+replay s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for a, b, ma, mb, pp, pu, fv, sv, used, n, secs in rows:
        print(f"| {short(a)} vs {short(b)} | {ma:.3f} | {mb:.3f} | {pp:.2g} | {pu:.2g} | {short(fv)} | {short(sv)} "
              f"| {used}/{n} | {secs:.2f} |")
    used = np.array([r[8] for r in rows])
    n = rows[0][9]
    decided = [r for r in rows if r[7] != "-"]
    wrong = [r for r in decided if r[7] != (r[0] if r[2] > r[3] else r[1])]
    paired_only = sum(1 for r in rows if r[4] < alpha <= r[5])
    unpaired_only = sum(1 for r in rows if r[5] < alpha <= r[4])
    print()
    print(f"pairs: {len(rows)}; sequential decided {len(decided)}, wrong direction {len(wrong)}; "
          f"mean problems used {used.mean():.1f} of {n} ({1 - used.mean() / n:.0%} saved, ratio {used.mean() / n:.2f})")
    print(f"full-data tests at alpha={alpha:g}: paired significant {sum(r[4] < alpha for r in rows)}, "
          f"unpaired z significant {sum(r[5] < alpha for r in rows)}; paired-only {paired_only}, "
          f"unpaired-only {unpaired_only}")
    print(f"reading two models' logs + replay: mean {np.mean([r[10] for r in rows]):.2f} s per pair")
    return 0


if __name__ == "__main__":
    sys.exit(main())
