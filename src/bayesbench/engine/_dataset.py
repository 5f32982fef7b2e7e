"""The one place where a run's dataset and each score are checked.

A dataset becomes a list of problems in a fixed order: the seeded shuffle is only reproducible when
the order it starts from is. So a pandas DataFrame is its rows (as records, not its column names),
and unordered collections (``set``, ``frozenset``, dict key/item views over sets...) are refused:
their iteration order changes from one process to the next for the same seed.

A dataset object may say what its problems are through a ``__bayesbench_problems__()`` method (a
``bayesbench.builder.BuilderDataset`` does: its cases become problem dicts); the engine never imports the
class, it only asks.

A score is a number (Python or numpy bool/int/float, anything ``float()`` takes that is not text) inside ``score_range``. Text is never a
score, even text that looks like a number: ``"1"`` is an answer, not a grade.
"""

from __future__ import annotations

import collections.abc as cabc
import math
from collections.abc import Callable
from typing import Any

from ..errors import DatasetError, ScoringError


def callable_label(fn: Callable[..., Any], kind: str) -> str:
    """How a message names the user's function: "score function 'exact'"."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return f"{kind} '{name}'"


def _is_dataframe(obj: Any) -> bool:
    cls = type(obj)
    return cls.__name__ == "DataFrame" and callable(getattr(obj, "to_dict", None)) and hasattr(obj, "columns")


def check_dataset(dataset: Any, what: str = "dataset") -> list[Any]:
    """Materialise a dataset into a list of problems, with a clear error for the usual mistakes."""
    if dataset is None:
        raise DatasetError(f"`{what}` is required: pass a list of problems (dicts or strings)")
    if isinstance(dataset, (str, bytes, dict)):
        raise DatasetError(
            f"`{what}` must be a sequence of problems, got a single {type(dataset).__name__}; wrap it in a list"
        )
    as_problems = getattr(dataset, "__bayesbench_problems__", None)
    if callable(as_problems):  # a dataset object that knows its problems (bayesbench.builder.BuilderDataset)
        problems = list(as_problems())
    elif _is_dataframe(dataset):  # pandas (or a look-alike): one problem per row
        problems = list(dataset.to_dict("records"))
    elif isinstance(dataset, (cabc.Set, cabc.KeysView, cabc.ItemsView)) and not isinstance(dataset, cabc.Sequence):
        raise DatasetError(
            f"`{what}` is a {type(dataset).__name__}, which has no fixed order: the same seed would test the "
            "problems in a different order in each process. Pass a list, e.g. sorted(problems)"
        )
    else:
        try:
            problems = list(dataset)
        except TypeError:
            raise DatasetError(f"`{what}` must be an iterable of problems, got {type(dataset).__name__}") from None
    if not problems:
        raise DatasetError(f"`{what}` is empty: a benchmark needs at least one problem")
    return problems


def check_score(value: Any, settings: Any, where: str) -> float:
    """A score must be a finite real number inside ``score_range``; say exactly which problem broke it."""
    lo, hi = settings.score_range
    text = isinstance(value, (str, bytes, bytearray))
    score = None
    if not text:
        try:  # numbers of any kind: Python, numpy (bool_, int64, float32...), 0-d arrays, tensors
            score = float(value)
        except (TypeError, ValueError):
            pass
    if score is None:
        kind = "text" if text else type(value).__name__
        raise ScoringError(
            f"{where} returned {value!r} ({kind}), which is not a number; a score must be a number in "
            f"[{lo:g}, {hi:g}] (e.g. 1.0 for correct, 0.0 for wrong). Convert it in the score function, "
            "e.g. float(response == answer)"
        )
    if not math.isfinite(score) or not (lo <= score <= hi):
        raise ScoringError(
            f"{where} returned {value!r}; scores must be finite numbers in [{lo:g}, {hi:g}]. "
            "For other bounded scores set score_range=(low, high) (CLI: --score-range LOW HIGH) with a-priori bounds."
        )
    return score
