"""Exact and near-duplicate removal, with counts.

Exact duplicates: the same input after normalisation (Unicode NFKC, case folded, whitespace collapsed,
punctuation dropped), so "What is 2+2?" and "what is 2 + 2" are one case. Near duplicates: MinHash over
character 5-gram shingles of the normalised text with locality-sensitive hashing (``datasketch``, the
``builder`` extra; banded for ``threshold - 0.2`` so that few true pairs are missed) finds candidate pairs; a candidate counts only when the exact Jaccard similarity of the two
shingle sets reaches ``threshold`` (the MinHash estimate only proposes, so no false merge comes from
hash noise). The earliest case is kept (collect real queries first, generated ones last); each removed case
records which case it duplicated and how similar they were.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, missing_dependency
from ._dataset import BuilderDataset

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """The text duplicates are compared on: NFKC, case folded, punctuation removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def shingles(text: str, k: int = 5) -> set[str]:
    """Character ``k``-grams of the normalised text (the whole text when shorter than ``k``)."""
    norm = normalize_text(text)
    if len(norm) <= k:
        return {norm}
    return {norm[i:i + k] for i in range(len(norm) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Duplicate:
    """A removed case: its ``id``, the kept case it duplicated (``duplicate_of``), ``kind`` (exact or near)
    and the Jaccard ``similarity`` of their shingle sets (1.0 for exact)."""

    id: str
    duplicate_of: str
    kind: str
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "duplicate_of": self.duplicate_of, "kind": self.kind, "similarity": self.similarity}


@dataclass
class DedupResult:
    """The deduplicated dataset and what was removed. ``method`` names the procedure and its parameters;
    ``n`` is the number of cases examined; ``seed`` is the MinHash seed."""

    dataset: BuilderDataset
    removed: list[Duplicate]
    n: int
    method: str
    threshold: float
    seed: int

    @property
    def counts(self) -> dict[str, int]:
        exact = sum(d.kind == "exact" for d in self.removed)
        return {"examined": self.n, "exact": exact, "near": len(self.removed) - exact, "kept": self.n - len(self.removed)}

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "n": self.n, "seed": self.seed, "threshold": self.threshold,
                "counts": self.counts, "removed": [d.to_dict() for d in self.removed]}

    def summary(self) -> str:
        c = self.counts
        return (f"Deduplication ({self.method}): {c['examined']} cases examined, {c['exact']} exact and "
                f"{c['near']} near duplicate(s) removed, {c['kept']} kept")


def deduplicate(dataset: BuilderDataset, *, near: bool = True, threshold: float = 0.8, num_perm: int = 128,
                shingle_size: int = 5, seed: int = 1) -> DedupResult:
    """Remove exact and (with ``near=True``) near-duplicate inputs; returns a new dataset and the report.

    threshold: the Jaccard similarity of character shingles at or above which two inputs are near duplicates,
        in (0, 1], default 0.8. num_perm: MinHash permutations, default 128. shingle_size: characters per
        shingle, default 5. seed: the MinHash seed, default 1. The new dataset's changelog gets one ``dedup``
        entry with the counts.
    """
    if not isinstance(threshold, (int, float)) or not 0.0 < threshold <= 1.0:
        raise ConfigError(f"`threshold` must be in (0, 1], got {threshold!r}")
    if not isinstance(num_perm, int) or num_perm < 16:
        raise ConfigError(f"`num_perm` must be an integer >= 16, got {num_perm!r}")
    if not isinstance(shingle_size, int) or shingle_size < 1:
        raise ConfigError(f"`shingle_size` must be a positive integer, got {shingle_size!r}")
    cases = dataset.cases
    removed: list[Duplicate] = []
    kept = []
    seen: dict[str, str] = {}
    for case in cases:
        key = hashlib.sha256(normalize_text(case.text).encode("utf-8")).hexdigest()
        if key in seen:
            removed.append(Duplicate(case.id, seen[key], "exact", 1.0))
        else:
            seen[key] = case.id
            kept.append(case)
    method = "exact (normalised text)"
    if near and len(kept) > 1:
        try:
            from datasketch import MinHash, MinHashLSH
        except ImportError:
            raise missing_dependency("datasketch", "builder", "near-duplicate removal (MinHash)") from None
        method = f"exact + MinHash LSH (char {shingle_size}-grams, {num_perm} perms, Jaccard >= {threshold:g})"
        template = MinHash(num_perm=num_perm, seed=seed)
        # LSH only proposes candidates; banding for a lower threshold than the one confirmed by exact Jaccard
        # makes a missed pair (a false negative of the banding) rare, at the cost of a few more comparisons.
        lsh = MinHashLSH(threshold=max(0.1, threshold - 0.2), num_perm=num_perm)
        sets: dict[str, set[str]] = {}
        survivors = []
        for case in kept:
            sh = shingles(case.text, shingle_size)
            mh = MinHash(num_perm=num_perm, seed=seed, permutations=template.permutations, scheme=template.scheme)
            mh.update_batch(s.encode("utf-8") for s in sh)
            best: tuple[float, str] | None = None
            for other in lsh.query(mh):
                sim = jaccard(sh, sets[other])
                if sim >= threshold and (best is None or sim > best[0]):
                    best = (sim, other)
            if best is not None:
                removed.append(Duplicate(case.id, best[1], "near", round(best[0], 4)))
                continue
            sets[case.id] = sh
            lsh.insert(case.id, mh)
            survivors.append(case)
        kept = survivors
    out = dataset.copy()
    result = DedupResult(dataset=out, removed=removed, n=len(cases), method=method, threshold=float(threshold),
                         seed=seed)
    out.replace_cases(kept, action="dedup", detail=result.summary(), counts=result.counts)
    return result
