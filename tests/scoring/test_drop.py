"""Golden tests for the DROP metric, hand-computed from the official algorithm's rules."""

import itertools
import random

import pytest

from bayesbench.errors import ScoringError
from bayesbench.scoring import drop_em_f1, drop_normalize_answer


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("The Eagles.", "eagles"),
        ("2", "2.0"),
        ("2.00", "2.0"),
        ("1,000", "1000.0"),  # not a float -> punctuation removed -> a number
        ("$5", "5.0"),
        ("state-of-the-art", "state of art"),  # split on hyphens, articles dropped
        ("  New   York ", "new york"),
        ("two", "two"),  # number words are not numbers for DROP
    ],
)
def test_normalisation(raw, expected):
    assert drop_normalize_answer(raw) == expected


@pytest.mark.parametrize(
    "prediction, gold, em, f1",
    [
        ("2", ["2.0"], 1.0, 1.0),
        ("2.0", ["2"], 1.0, 1.0),
        ("two", ["2"], 0.0, 0.0),  # official metric: no number-word mapping, and the number rule zeroes F1
        ("The Eagles.", ["eagles"], 1.0, 1.0),
        ("the red car", ["red truck"], 0.0, 0.5),  # P = R = 1/2
        ("12 yards run", ["12 yards"], 0.0, 0.8),  # P = 2/3, R = 1
        ("10 yards", ["12 yards"], 0.0, 0.0),  # number mismatch: F1 0 despite "yards"
        (["Bob", "Alice"], [["alice", "bob"]], 1.0, 1.0),  # reordered spans
        (["alice"], [["alice", "bob"]], 0.0, 0.5),  # a missing span counts 0
        (["alice", "bob", "carol"], [["alice", "bob"]], 0.0, 0.67),  # an extra span counts 0; rounded
        (["New York City", "Boston"], [["Boston", "New York"]], 0.0, 0.9),  # (1 + 0.8) / 2
        ("4", ["four", "4"], 1.0, 1.0),  # max over gold answers
        ("4", ["", "4"], 1.0, 1.0),  # blank gold answers are skipped
        ("1,000", ["1000"], 1.0, 1.0),
    ],
)
def test_em_f1(prediction, gold, em, f1):
    assert drop_em_f1(prediction, gold) == (em, f1)


def test_single_span_against_two_gold_spans():
    # pred bag {alice, and, bob}; gold bags {alice}, {bob}: F1 = 2*(1/3*1)/(1/3+1) = 0.5 each,
    # one-to-one alignment uses only one of them: mean over max(2, 1) = 2 slots = 0.25.
    assert drop_em_f1("Alice and Bob", [["Alice", "Bob"]]) == (0.0, 0.25)


def _brute_force_f1(pred_spans, gold_spans):
    """Independent reference: best one-to-one matching by trying every permutation."""
    pred = [set(drop_normalize_answer(s).split()) for s in pred_spans]
    gold = [set(drop_normalize_answer(s).split()) for s in gold_spans]

    def f1(p, g):
        nums = lambda bag: {t for t in bag if _is_num(t)}  # noqa: E731
        if nums(g) and not (nums(g) & nums(p)):
            return 0.0
        common = len(p & g)
        prec = common / len(p) if p else 1.0
        rec = common / len(g) if g else 1.0
        return 0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec)

    size = max(len(pred), len(gold))
    best = 0.0
    for perm in itertools.permutations(range(size)):
        total = sum(f1(pred[perm[i]], gold[i]) for i in range(len(gold)) if perm[i] < len(pred))
        best = max(best, total)
    return round(best / size, 2)


def _is_num(t):
    try:
        float(t)
        return True
    except ValueError:
        return False


def test_alignment_matches_brute_force_on_random_multispan_answers():
    rng = random.Random(20261124)
    vocab = ["red", "blue", "car", "the", "3", "4", "yards", "bob", "alice", "run"]
    for _ in range(300):
        pred = [" ".join(rng.choices(vocab, k=rng.randint(1, 3))) for _ in range(rng.randint(1, 4))]
        gold = [" ".join(rng.choices(vocab, k=rng.randint(1, 3))) for _ in range(rng.randint(1, 4))]
        if not gold[0].strip():
            continue
        assert drop_em_f1(pred, [gold])[1] == pytest.approx(_brute_force_f1(pred, gold), abs=1e-9), (pred, gold)


def test_bad_inputs_raise_scoring_error():
    with pytest.raises(ScoringError, match="`gold` must be a non-empty sequence"):
        drop_em_f1("x", "x")
    with pytest.raises(ScoringError, match="no non-blank answer"):
        drop_em_f1("x", [""])
    with pytest.raises(ScoringError, match="`prediction` must be"):
        drop_em_f1(3, ["3"])
