"""Replay recorded scores through the same decision engine, without calling any model.

Used by the one-liners ``compare``/``rank`` and by ``bayesbench replay``: they answer "what would
early stopping have concluded, and with how many problems?" for results you already have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DatasetError
from ..stats import RankingRace
from ._dataset import check_score
from ._loop import batch_boundaries, shuffled_order
from ._pair import PairRun
from ._rank import build_ranking_result
from ._results import RankingResult, TaskResult
from ._settings import RunSettings, check_ranking, engine_config


def _as_scores(values: Any, name: str, settings: RunSettings) -> list[float]:
    try:
        seq = list(np.asarray(values, dtype=object).ravel())
    except Exception:
        raise DatasetError(f"`{name}` must be a sequence of numeric scores") from None
    if not seq:
        raise DatasetError(f"`{name}` is empty: pass at least one score")
    return [check_score(v, settings, f"`{name}`[{i}]") for i, v in enumerate(seq)]


def replay_pair(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    settings: RunSettings,
    posterior_factory: Any,
    *,
    name: str = "replay",
    model_a_name: str = "model_a",
    model_b_name: str = "model_b",
) -> TaskResult:
    settings = settings.with_seed()
    a = _as_scores(scores_a, "scores_a", settings)
    b = _as_scores(scores_b, "scores_b", settings)
    if len(a) != len(b):
        raise DatasetError(
            f"paired scores must have the same length (one per problem), got {len(a)} and {len(b)}"
        )
    run = PairRun(name, list(range(len(a))), settings, posterior_factory)
    run.names = (model_a_name, model_b_name)
    for start, end in batch_boundaries(run.limit, settings.batch_size, settings.min_samples):
        idx = run.order[start:end]
        run.counter.calls += 2 * len(idx)
        if run.feed([(i, a[i], b[i]) for i in idx]):
            break
    return run.finish()


def replay_rank(matrix: dict[str, Sequence[float]], settings: RunSettings, posterior_factory: Any) -> RankingResult:
    """Race recorded models: ``matrix`` maps a model name to its scores, one per problem."""
    check_ranking(settings, len(matrix))
    settings = settings.with_seed()
    names = list(matrix)
    data = {m: _as_scores(v, f"scores of {m!r}", settings) for m, v in matrix.items()}
    lengths = {len(v) for v in data.values()}
    if len(lengths) != 1:
        raise DatasetError(f"every model needs one score per problem; got lengths {sorted(lengths)}")
    bank = lengths.pop()
    limit = bank if settings.max_problems is None else min(bank, settings.max_problems)
    order = shuffled_order(bank, settings.seed)  # type: ignore[arg-type]
    cfg = engine_config(settings, bank)
    fixed = settings.rule == "fixed"
    race = RankingRace(names, cfg, goal=settings.goal, rule="fixed" if fixed else "anytime")  # type: ignore[arg-type]
    used = {m: 0 for m in names}
    calls = 0
    stopped_early = False
    for start, end in batch_boundaries(limit, settings.batch_size, settings.min_samples):
        idx = order[start:end]
        active = names if fixed else list(race.active_models())
        race.update({m: [data[m][i] for i in idx] for m in active})
        for m in active:
            used[m] += len(idx)
        calls += len(active) * len(idx)
        if not fixed and race.done():
            stopped_early = end < limit
            break
    if not race.done():
        race.close()
    scores = {m: {i: data[m][i] for i in order[: used[m]]} for m in names}
    stop_reason = "settled" if stopped_early else ("bank_exhausted" if limit == bank else "budget_exhausted")
    return build_ranking_result(
        names, scores, set(race.claims()), settings, posterior_factory, calls=calls, bank=bank,
        stop_reason=stop_reason,
    )
