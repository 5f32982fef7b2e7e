"""Exact and near-duplicate removal (MinHash LSH + exact Jaccard confirmation) with counts."""

from __future__ import annotations

import importlib.util
import random

import pytest

from bayesbench.builder import BuilderDataset, TestCase, deduplicate, normalize_text
from bayesbench.errors import ConfigError
from tests._shared import require_or_skip


def test_exact_duplicates_after_normalisation_and_counts() -> None:
    ds = BuilderDataset("d", [TestCase(input="What is 2+2?"), TestCase(input="what is 2 + 2"),
                              TestCase(input="WHAT  IS 2+2 ?!"), TestCase(input="Capital of France?")])
    result = deduplicate(ds, near=False)
    assert result.counts == {"examined": 4, "exact": 2, "near": 0, "kept": 2}
    assert [d.duplicate_of for d in result.removed] == [ds.ids[0], ds.ids[0]]
    assert result.dataset.ids == [ds.ids[0], ds.ids[3]] and len(ds) == 4  # the input dataset is untouched
    entry = result.dataset.changelog[-1]
    assert entry.action == "dedup" and entry.n_before == 4 and entry.n_after == 2 and entry.counts["exact"] == 2
    assert normalize_text("  Héllo,   WORLD! ") == "héllo world"


def test_near_duplicates_are_found_and_distinct_questions_kept() -> None:
    require_or_skip(importlib.util.find_spec("datasketch") is not None, 'pip install "bayesbench[builder]"')
    base = [
        "How do I reset my password if I no longer have access to my email account?",
        "Can I get a refund for an annual subscription that I bought three days ago?",
        "Why does the mobile app crash when I upload a photo larger than ten megabytes?",
        "Which payment methods do you accept for business accounts in Germany?",
    ]
    near = [
        "How do I reset my password if I no longer have access to my e-mail account?",
        "can i get a refund for an annual subscription that i bought 3 days ago",
        "Why does the mobile app crash when I upload a photo larger than 10 megabytes??",
    ]
    distinct = ["How do I change my email address?", "What is your refund policy for monthly plans?"]
    ds = BuilderDataset("d", [TestCase(input=t) for t in base + near + distinct])
    result = deduplicate(ds, threshold=0.7)
    assert result.counts == {"examined": 9, "exact": 0, "near": 3, "kept": 6}
    assert {d.duplicate_of for d in result.removed} == set(ds.ids[:3])
    assert all(0.7 <= d.similarity < 1.0 for d in result.removed)
    assert "3 near duplicate" in result.summary() and result.to_dict()["seed"] == 1


def test_near_dedup_matches_brute_force_jaccard_on_a_seeded_corpus() -> None:
    """Seeded simulation: 200 distinct questions and 100 copies with 1-3 character edits. Brute force says which
    copies are within Jaccard >= 0.7 of their original; MinHash LSH must find >= 97% of those (the banding may miss
    a pair: Monte-Carlo tolerance) and never remove an original or a copy below the threshold."""
    require_or_skip(importlib.util.find_spec("datasketch") is not None, 'pip install "bayesbench[builder]"')
    from bayesbench.builder._dedup import jaccard, shingles

    rng = random.Random(7)
    words = ["account", "invoice", "password", "refund", "delivery", "warranty", "upgrade", "billing", "address",
             "order", "coupon", "shipping", "battery", "screen", "login", "export", "report", "team", "plan", "card"]
    originals = [" ".join(rng.sample(words, 8)) + f" {rng.randint(0, 10**6)}?" for _ in range(200)]
    pairs = []
    for q in rng.sample(originals, 100):
        chars = list(q)
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        pairs.append((q, "".join(chars)))
    ds = BuilderDataset("sim", [TestCase(input=t) for t in originals + [c for _, c in pairs]])
    result = deduplicate(ds, threshold=0.7)
    kept = set(result.dataset.ids)
    assert set(ds.ids[:200]) <= kept, "an original was removed"
    truth = [jaccard(shingles(a), shingles(b)) >= 0.7 for a, b in pairs]
    removed = [cid not in kept for cid in ds.ids[200:]]
    assert not any(r and not t for r, t in zip(removed, truth)), "a copy below the threshold was removed"
    found = sum(r and t for r, t in zip(removed, truth))
    assert sum(truth) >= 60 and found >= 0.97 * sum(truth), (found, sum(truth))


def test_bad_parameters() -> None:
    ds = BuilderDataset("d", [TestCase(input="a")])
    with pytest.raises(ConfigError, match="threshold"):
        deduplicate(ds, threshold=0)
    with pytest.raises(ConfigError, match="num_perm"):
        deduplicate(ds, num_perm=4)
