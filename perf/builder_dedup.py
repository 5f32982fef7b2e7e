"""Near-duplicate removal: MinHash LSH (bayesbench.builder.deduplicate) against brute-force all-pairs exact
Jaccard (the baseline) on a seeded corpus of distinct questions plus lightly edited copies.

Prints, for each size, both times, the speed-up, and the share of the brute-force duplicates that LSH found
(its recall; its precision is 1 by construction: every pair is confirmed by exact Jaccard).

    python perf/builder_dedup.py [--sizes 500,2000] [--threshold 0.7] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import time

from bayesbench.builder import BuilderDataset, TestCase, deduplicate
from bayesbench.builder._dedup import jaccard, normalize_text, shingles

WORDS = ("account invoice password refund delivery warranty upgrade billing address order coupon shipping battery "
         "screen login export report team plan card tracking parcel courier receipt discount renewal").split()


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    originals = [" ".join(rng.sample(WORDS, 9)) + f" #{rng.randint(0, 10**7)}?" for _ in range(int(n * 0.8))]
    copies = []
    for q in rng.sample(originals, n - len(originals)):
        chars = list(q)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice("abcdefghijklmnopqrstuvwxyz ")
        copies.append("".join(chars))
    texts = originals + copies
    rng.shuffle(texts)
    return texts


def brute_force(texts: list[str], threshold: float) -> set[int]:
    """Indices removed by the same keep-the-first rule, comparing every pair exactly."""
    kept: list[tuple[int, set[str]]] = []
    removed, seen = set(), set()
    for i, t in enumerate(texts):
        norm = normalize_text(t)
        if norm in seen:
            removed.add(i)
            continue
        seen.add(norm)
        sh = shingles(t)
        if any(jaccard(sh, other) >= threshold for _, other in kept):
            removed.add(i)
        else:
            kept.append((i, sh))
    return removed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="500,2000", help="corpus sizes (default 500,2000)")
    ap.add_argument("--threshold", type=float, default=0.7, help="Jaccard threshold (default 0.7)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    # warm up: the first call imports datasketch (and numpy/scipy under it); not part of either timing
    deduplicate(BuilderDataset("warm", [TestCase(input="warm up one"), TestCase(input="warm up two")]))
    print(f"{'n':>6} {'brute s':>9} {'minhash s':>10} {'speed-up':>9} {'dups (brute)':>13} {'found':>7} "
          f"{'recall':>7}")
    for n in (int(x) for x in args.sizes.split(",")):
        texts = corpus(n, args.seed)
        t0 = time.perf_counter()
        truth = brute_force(texts, args.threshold)
        t_brute = time.perf_counter() - t0
        ds = BuilderDataset("perf", [TestCase(input=t) for t in texts])
        t0 = time.perf_counter()
        result = deduplicate(ds, threshold=args.threshold, seed=args.seed + 1)
        t_lsh = time.perf_counter() - t0
        kept = set(result.dataset.ids)
        removed = {i for i, cid in enumerate(ds.ids) if cid not in kept}
        found = len(removed & truth)
        print(f"{n:>6} {t_brute:>9.2f} {t_lsh:>10.2f} {t_brute / t_lsh:>8.1f}x {len(truth):>13} {found:>7} "
              f"{found / max(1, len(truth)):>7.3f}")


if __name__ == "__main__":
    main()
