"""Argument checks and the one way an item is asked (shared by the estimators)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, ScoringError

__all__ = ["Asker", "check_common"]


def check_common(budget: Any, confidence: Any, seed: Any, n_items: int) -> None:
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 2:
        raise ConfigError(f"`budget` must be an integer >= 2, got {budget!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not (0.5 < confidence < 1):
        raise ConfigError(f"`confidence` must be in (0.5, 1), got {confidence!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ConfigError(f"`seed` must be an integer or None, got {seed!r}")
    if n_items < 2:
        raise ConfigError(f"the bank has {n_items} item(s); estimating a mean needs at least 2")


class Asker:
    """Asks ``score_item(j)`` once per item, checks the answer, remembers it (repeat draws are free)."""

    def __init__(self, score_item: Callable[[int], Any], items: tuple[str, ...]) -> None:
        if not callable(score_item):
            raise ConfigError(f"`score_item` must be a function item_index -> score in [0, 1], got {score_item!r}")
        self.fn = score_item
        self.items = items
        self.answers: dict[int, float] = {}

    @property
    def n_calls(self) -> int:
        return len(self.answers)

    def __call__(self, j: int) -> float:
        j = int(j)
        if j in self.answers:
            return self.answers[j]
        raw = self.fn(j)
        if isinstance(raw, bool):
            raw = float(raw)
        try:
            z = float(raw)
        except (TypeError, ValueError):
            raise ScoringError(
                f"score_item({j}) (item {self.items[j]!r}) returned {raw!r}; it must return a score in [0, 1]"
            ) from None
        if not (math.isfinite(z) and 0.0 <= z <= 1.0):
            raise ScoringError(
                f"score_item({j}) (item {self.items[j]!r}) returned {raw!r}; it must return a score in [0, 1] "
                "(rescale with the score's a-priori range)"
            )
        self.answers[j] = z
        return z
