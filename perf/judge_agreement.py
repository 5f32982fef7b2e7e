"""Cost of the agreement statistics with their bootstrap intervals, against the reference packages' point estimates.

    python perf/judge_agreement.py [--items 500] [--boot 1000]

Baselines in the same run: statsmodels' ``cohens_kappa`` / ``fleiss_kappa`` and ``krippendorff.alpha`` called
``--boot`` times on resampled tables (what a hand-rolled bootstrap around them costs), against bayesbench's
``cohens_kappa`` / ``fleiss_kappa`` / ``krippendorff_alpha(n_boot=--boot)``; and Dawid–Skene on 5 annotators.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import krippendorff  # noqa: E402
import numpy as np  # noqa: E402
from statsmodels.stats import inter_rater as ir  # noqa: E402

from bayesbench.builder._agreement import cohens_kappa, fleiss_kappa, krippendorff_alpha  # noqa: E402
from bayesbench.builder._annotation_ratings import Ratings  # noqa: E402
from bayesbench.builder._consensus import dawid_skene  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=500)
    ap.add_argument("--boot", type=int, default=1000)
    args = ap.parse_args()
    n, B = args.items, args.boot
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=n)
    labels = np.where(rng.random((n, 5)) < 0.7, truth[:, None], rng.integers(0, 4, size=(n, 5)))
    pairs = labels[:, :2]

    def sm_cohen():
        for _ in range(B):
            idx = rng.integers(0, n, size=n)
            t = np.zeros((4, 4))
            np.add.at(t, (pairs[idx, 0], pairs[idx, 1]), 1)
            ir.cohens_kappa(t, return_results=False)

    def sm_fleiss():
        table, _ = ir.aggregate_raters(labels)
        for _ in range(B):
            ir.fleiss_kappa(table[rng.integers(0, n, size=n)])

    counts = Ratings.from_matrix(labels.tolist()).counts()

    def kd_alpha():
        for _ in range(B):
            krippendorff.alpha(value_counts=counts[rng.integers(0, n, size=n)], level_of_measurement="nominal")

    rows = [
        ("Cohen's kappa", sm_cohen, lambda: cohens_kappa(pairs.tolist(), n_boot=B)),
        ("Fleiss' kappa", sm_fleiss, lambda: fleiss_kappa(labels.tolist(), n_boot=B)),
        ("Krippendorff's alpha", kd_alpha, lambda: krippendorff_alpha(labels.tolist(), n_boot=B)),
    ]
    print(f"{n} items x 5 annotators, 4 labels, {B} bootstrap resamples")
    print(f"{'statistic':<22}{'reference x B (s)':>18}{'bayesbench (s)':>16}{'ratio':>8}")
    for name, ref, ours in rows:
        r, o = timed(ref), timed(ours)
        print(f"{name:<22}{r:>18.3f}{o:>16.3f}{o / r:>8.2f}")
    records = [{"item_id": i, "annotator": a, "label": int(labels[i, a])} for i in range(n) for a in range(5)]
    dt = timed(lambda: dawid_skene(records))
    print(f"Dawid-Skene EM on {len(records)} labels: {dt:.3f} s")


if __name__ == "__main__":
    main()
