"""SQuAD-style answer normalisation and exact match."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from ..errors import ScoringError

__all__ = ["normalize_text", "exact_match"]

_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_text(s: str) -> str:
    """Normalise an answer the SQuAD v1.1 way, in this order:

    1. lower-case;
    2. delete every ASCII punctuation character (``string.punctuation``);
    3. replace the whole words "a", "an", "the" by a space;
    4. collapse runs of whitespace to one space and strip the ends.

    ``normalize_text("The  Eiffel-Tower!") == "eiffeltower"``.
    """
    if not isinstance(s, str):
        raise ScoringError(f"`s` must be a str, got {type(s).__name__}")
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction: str, target: str | Sequence[str], *, normalize: bool = True) -> float:
    """1.0 if ``prediction`` equals ``target`` (or any of several targets), else 0.0.

    normalize: compare after :func:`normalize_text` (default True); with False the strings
        must be identical character for character.
    """
    if not isinstance(prediction, str):
        raise ScoringError(f"`prediction` must be a str, got {type(prediction).__name__}")
    targets = [target] if isinstance(target, str) else list(target)
    if not targets or not all(isinstance(t, str) for t in targets):
        raise ScoringError(f"`target` must be a str or a non-empty sequence of str, got {target!r}")
    if normalize:
        pred = normalize_text(prediction)
        return 1.0 if any(pred == normalize_text(t) for t in targets) else 0.0
    return 1.0 if prediction in targets else 0.0
