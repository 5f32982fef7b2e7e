"""Estimating a suite's model from a bank: map the bank's item ids to the suite's problems."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError, DatasetError
from ._result import Estimate

__all__ = ["estimate_suite"]


def _problem_id(problem: Any, key: str) -> str:
    if isinstance(problem, dict):
        if key not in problem:
            raise DatasetError(f"a suite problem has no {key!r} field (keys {sorted(problem)[:8]}); pass id_key=")
        return str(problem[key])
    value = getattr(problem, key, None)
    if value is None:
        raise DatasetError(f"a suite problem ({type(problem).__name__}) has no {key!r} attribute; pass id_key=")
    return str(value)


def estimate_suite(fit: Any, suite_problems: Sequence[Any], model_fn: Callable[[Any], Any],
                   score_fn: Callable[[Any, Any], Any], budget: int = 100, *, id_key: str = "id",
                   item_prefix: str = "", method: str = "active", **kw: Any) -> Estimate:
    """Estimate ``model_fn``'s mean over the fitted bank's items, asking only the problems the estimator picks.

    Every bank item id (``fit.items``) must be ``item_prefix + <problem id>`` of one of ``suite_problems``
    (``problem[id_key]``); an item the suite lacks is an error naming it. The model is called with the
    problem and its response scored by ``score_fn(problem, response)`` (a sync function returning [0, 1]).
    ``method``: "active" (default), "uniform" or "irt"; other keywords go to that estimator.
    """
    by_id: dict[str, Any] = {}
    for p in suite_problems:
        by_id[item_prefix + _problem_id(p, id_key)] = p
    missing = [it for it in fit.items if it not in by_id]
    if missing:
        raise DatasetError(
            f"{len(missing)} of the bank's {len(fit.items)} items are not problems of this suite, e.g. "
            f"{missing[:3]}; the bank's item ids must be the suite's problem ids (prefix {item_prefix!r}, "
            f"id_key {id_key!r}); filter the bank to the suite's items first (bank.filter(items=...))"
        )

    def score_item(j: int) -> float:
        problem = by_id[fit.items[j]]
        return score_fn(problem, model_fn(problem))

    if method == "active":
        return fit.estimate(score_item, budget=budget, **kw)
    if method == "uniform":
        return fit.estimate_uniform(score_item, budget=budget, **kw)
    if method == "irt":
        return fit.estimate_irt(score_item, budget=budget, **kw)
    raise ConfigError(f"`method` must be 'active', 'uniform' or 'irt', got {method!r}")
