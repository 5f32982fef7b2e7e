"""Recorded models: a bank row answering like a model, at zero cost.

A :class:`RecordedModel` is a ``callable(problem)`` for every front door. It finds the problem's item id
(``problem["id"]`` by default; ``item_key=`` or ``item_of=`` to change it) and returns the recorded score
wrapped as ``{"bayesbench_recorded_score": s, "model": ..., "item": ...}``; a score function wrapped by
:func:`with_recorded` passes that score through unchanged and scores every other response as before::

    bench.compare(model_a=new_model, model_b=bank.model("org/old"), score_fn=with_recorded(exact_match), ...)

Only ``new_model`` is called. An item the bank did not record for that model is an error (a model failure),
never a made-up score.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DatasetError

__all__ = ["RECORDED_KEY", "RecordedModel", "recorded_score", "with_recorded"]

RECORDED_KEY = "bayesbench_recorded_score"


def _default_item_of(problem: Any, key: str) -> str:
    if isinstance(problem, dict):
        for k in (key, "item_id", "problem_id"):
            if k in problem:
                return str(problem[k])
        raise DatasetError(
            f"a recorded model needs the problem's item id in problem[{key!r}], got keys {sorted(problem)[:8]}; "
            "pass item_key= or item_of= to bank.model(...)"
        )
    if isinstance(problem, (str, int)):
        return str(problem)
    value = getattr(problem, key, None)
    if value is None:
        raise DatasetError(f"cannot find an item id on {type(problem).__name__}; pass item_of= to bank.model(...)")
    return str(value)


class RecordedModel:
    """One bank model as a zero-cost callable model (see the module docstring)."""

    def __init__(self, bank: Any, name: str, *, item_key: str = "id",
                 item_of: Callable[[Any], Any] | None = None) -> None:
        self.bank = bank
        self.name = str(name)
        self._row = bank.row(self.name)  # raises the clear unknown-model error
        self._item_key = item_key
        self._item_of = item_of
        digest = hashlib.sha256(np.ascontiguousarray(self._row).tobytes()
                                + "\x00".join(bank.items).encode()).hexdigest()[:16]
        # the cache key changes whenever the recorded row or the item ids change
        self.cache_key = f"bayesbench.history.recorded:{self.name}:{digest}"
        self.model_name = self.name
        self.calls = 0

    def get_model_name(self) -> str:
        return self.name

    def item_id(self, problem: Any) -> str:
        return str(self._item_of(problem)) if self._item_of is not None else _default_item_of(problem, self._item_key)

    def score(self, item: str) -> float:
        v = float(self._row[self.bank.item_index(item)])
        if np.isnan(v):
            raise DatasetError(f"model {self.name!r} has no recorded score for item {item!r} in the bank")
        return v

    def __call__(self, problem: Any) -> dict[str, Any]:
        item = self.item_id(problem)
        value = self.score(item)
        self.calls += 1
        return {RECORDED_KEY: value, "model": self.name, "item": item}

    def __repr__(self) -> str:
        return f"RecordedModel({self.name!r}, {self.bank!r})"


def recorded_score(response: Any) -> float | None:
    """The recorded score carried by a :class:`RecordedModel` response, or None for any other response."""
    if isinstance(response, dict) and RECORDED_KEY in response:
        return float(response[RECORDED_KEY])
    return None


def with_recorded(score_fn: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """Wrap ``score_fn(problem, response)`` (or ``score_fn(response)``) so recorded responses pass through."""
    try:
        params = [p for p in inspect.signature(score_fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        two = len(params) >= 2
    except (TypeError, ValueError):
        two = True

    @functools.wraps(score_fn)
    def scored(problem: Any, response: Any) -> Any:
        value = recorded_score(response)
        if value is not None:
            return value
        return score_fn(problem, response) if two else score_fn(response)

    try:
        del scored.__wrapped__  # the engine must see this (problem, response) signature, not the inner one
    except AttributeError:
        pass
    return scored
