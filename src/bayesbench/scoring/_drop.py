"""The DROP metric (Dua et al., 2019): exact match and bag-of-tokens F1 over answer spans.

Re-implemented from the description of the official evaluation (``drop_eval.py`` of the
DROP release); the behaviour, including its quirks, is documented in docs/scoring.md.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..errors import ScoringError

__all__ = ["drop_em_f1", "drop_normalize_answer"]

_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_SPLIT = re.compile(r" |-")


def _as_float(token: str) -> float | None:
    # The official metric's notion of "a number": anything Python's float() accepts.
    try:
        return float(token)
    except ValueError:
        return None


def _normalize_token(token: str) -> str:
    token = token.lower()
    if _as_float(token) is None:  # punctuation is kept inside numbers ("2.5")
        token = "".join(ch for ch in token if ch not in _PUNCT)
    value = _as_float(token)
    if value is not None:
        token = str(value)  # "2", "2.0", "2.00" -> "2.0"
    token = _ARTICLES.sub(" ", token)
    return " ".join(token.split())


def drop_normalize_answer(text: str) -> str:
    """DROP answer normalisation: split on spaces and hyphens, then per token lower-case,
    strip punctuation (unless the token is a number), write numbers as ``str(float(x))``,
    drop articles; rejoin the non-empty tokens with single spaces."""
    parts = (_normalize_token(tok) for tok in _SPLIT.split(text))
    return " ".join(p for p in parts if p.strip()).strip()


def _bags(answer: str | Sequence[str]) -> tuple[list[str], list[set[str]]]:
    spans = [answer] if isinstance(answer, str) else list(answer)
    normalized = [drop_normalize_answer(s) for s in spans]
    return normalized, [set(s.split()) for s in normalized]


def _f1(pred: set[str], gold: set[str]) -> float:
    common = len(pred & gold)
    precision = common / len(pred) if pred else 1.0
    recall = common / len(gold) if gold else 1.0
    if precision == 0.0 and recall == 0.0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _numbers_agree(gold: set[str], pred: set[str]) -> bool:
    """The number rule: if the gold span has numbers, the prediction must share one."""
    gold_numbers = {t for t in gold if _as_float(t) is not None}
    if not gold_numbers:
        return True
    return bool(gold_numbers & {t for t in pred if _as_float(t) is not None})


def _aligned_f1(pred_bags: list[set[str]], gold_bags: list[set[str]]) -> float:
    """Mean F1 after the best one-to-one matching of predicted to gold spans.

    Unmatched spans on either side count as 0, so extra or missing spans are penalised.
    """
    scores = np.zeros((len(gold_bags), len(pred_bags)))
    for i, gold in enumerate(gold_bags):
        for j, pred in enumerate(pred_bags):
            if _numbers_agree(gold, pred):
                scores[i, j] = _f1(pred, gold)
    rows, cols = linear_sum_assignment(scores, maximize=True)
    per_span = np.zeros(max(len(gold_bags), len(pred_bags)))
    for r, c in zip(rows, cols):
        per_span[r] = max(per_span[r], scores[r, c])
    return float(np.mean(per_span))


def _metrics(prediction: str | Sequence[str], gold: str | Sequence[str]) -> tuple[float, float]:
    pred_spans, pred_bags = _bags(prediction)
    gold_spans, gold_bags = _bags(gold)
    em = 1.0 if set(pred_spans) == set(gold_spans) and len(pred_spans) == len(gold_spans) else 0.0
    f1 = round(_aligned_f1(pred_bags, gold_bags), 2)
    return em, f1


def drop_em_f1(
    prediction: str | Sequence[str], gold: Sequence[str | Sequence[str]]
) -> tuple[float, float]:
    """DROP exact match and F1 of ``prediction`` against the acceptable ``gold`` answers.

    prediction: one answer string, or a sequence of spans for a multi-span answer.
    gold: the acceptable answers; each is a string or a sequence of spans. Answers whose
        first span is blank are skipped, as in the official script. EM and F1 are each the
        maximum over the gold answers; F1 is rounded to 2 decimals like the official metric.

    ``drop_em_f1("2", ["2.0"]) == (1.0, 1.0)``; ``drop_em_f1(["b", "a"], [["a", "b"]]) == (1.0, 1.0)``.
    """
    if isinstance(prediction, str):
        pass
    elif isinstance(prediction, Sequence) and all(isinstance(p, str) for p in prediction):
        prediction = list(prediction)
    else:
        raise ScoringError(f"`prediction` must be a str or a sequence of str, got {prediction!r}")
    if isinstance(gold, str) or not isinstance(gold, Sequence) or len(gold) == 0:
        raise ScoringError(
            "`gold` must be a non-empty sequence of answers (each a str or a sequence of spans), "
            f"got {gold!r}; wrap a single answer as [answer]"
        )
    best_em, best_f1, seen = 0.0, 0.0, False
    for answer in gold:
        spans = [answer] if isinstance(answer, str) else list(answer)
        if not spans or not all(isinstance(s, str) for s in spans):
            raise ScoringError(f"each gold answer must be a str or a sequence of str, got {answer!r}")
        if not spans[0].strip():
            continue
        seen = True
        em, f1 = _metrics(prediction, spans)
        best_em, best_f1 = max(best_em, em), max(best_f1, f1)
    if not seen:
        raise ScoringError(f"`gold` has no non-blank answer: {gold!r}")
    return best_em, best_f1
