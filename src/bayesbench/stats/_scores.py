"""Score validation shared by every rule: numeric, finite, inside the a-priori range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np

from ..errors import ScoringError

#: Scores as the rules take them: a sequence of numbers or a 1-D numpy array.
Scores: TypeAlias = "Sequence[float] | np.ndarray"


def as_scores(name: str, values: Scores, lo: float, hi: float) -> np.ndarray:
    """Return ``values`` as a 1-D float array, or raise ScoringError naming the first bad index."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.ndim != 1:
        if arr.ndim == 0:
            raise ScoringError(
                f"`{name}` must be a sequence of scores, got the scalar {values!r}; wrap it in a list"
            )
        raise ScoringError(f"`{name}` must be a flat sequence of scores, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        for i, v in enumerate(items):
            if isinstance(v, (str, bytes)) or not _is_number(v):
                raise ScoringError(
                    f"`{name}[{i}]` must be a number in [{lo:g}, {hi:g}], got {v!r}; "
                    "make the scorer return a float (or bool)"
                )
        arr = arr.astype(float)
    elif arr.dtype.kind != "f":
        arr = arr.astype(float)
    if arr.size and not (arr.min() >= lo and arr.max() <= hi):  # NaN fails both comparisons
        bad = np.flatnonzero(~((arr >= lo) & (arr <= hi)))
        i = int(bad[0])
        v = float(arr[i])
        what = "NaN" if v != v else repr(v)
        raise ScoringError(
            f"`{name}[{i}]` must be a number in [{lo:g}, {hi:g}] (the configured score_range), got {what}; "
            "score errors and timeouts as the worst score instead of NaN, or widen score_range"
        )
    return arr


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


_FAST = (float, int)


def paired(a: Any, b: Any, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch of paired scores (same problems, same order)."""
    if type(a) in (list, tuple) and type(b) in (list, tuple) and len(a) == 1 and len(b) == 1:
        x, y = a[0], b[0]  # one-pair fast path (the run loop's batch of 1)
        if type(x) in _FAST and type(y) in _FAST and lo <= x <= hi and lo <= y <= hi:
            return np.array([x], dtype=float), np.array([y], dtype=float)
    xa = as_scores("a", a, lo, hi)
    xb = as_scores("b", b, lo, hi)
    if xa.shape[0] != xb.shape[0]:
        raise ScoringError(
            f"`a` and `b` must have the same length (one pair per problem), got {xa.shape[0]} and "
            f"{xb.shape[0]}; feed only problems both models have scored"
        )
    return xa, xb
