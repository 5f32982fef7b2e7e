"""Repeated runs (``n_runs``): asking one problem several times, reducing the runs to the one score the
engine sees, and reporting what the repeats say (between-run vs item-sampling variance).

Run 0 is the very call a single run makes (same cache key), run r > 0 adds ``{"run": r}`` to the key, so
every repeat is a real call and an identical re-run is served from the cache. The engine decides on the
reduced per-problem scores: problems stay the exchangeable unit, so every guarantee of the test holds for
the reduced score (docs/repeated-runs.md).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import ScoringError
from ._settings import RunSettings, pass_k

#: one run of one problem: (score, the answer it scored; None for task functions that return scores)
Scored = tuple[float, Any]
T = TypeVar("T")


def run_params(run: int) -> dict[str, int] | None:
    """Extra cache-key parameters of run ``run`` (None for run 0: the same call as a single run)."""
    return None if run == 0 else {"run": run}


async def ask_runs(settings: RunSettings, ask: Callable[[dict[str, int] | None], Awaitable[T]]) -> list[T]:
    """``n_runs`` scored answers of one problem, asked at once; every run finishes (and is recorded)
    before a failure surfaces."""
    if settings.n_runs == 1:
        return [await ask(None)]
    values = await asyncio.gather(*(ask(run_params(r)) for r in range(settings.n_runs)), return_exceptions=True)
    for v in values:
        if isinstance(v, BaseException):
            raise v
    return list(values)  # type: ignore[arg-type]  # the exceptions were raised above


def _answer_key(answer: Any) -> str:
    text = getattr(answer, "text", answer)
    return " ".join(str(text).split())


def reduce_runs(runs: Sequence[Scored], settings: RunSettings, where: str) -> float:
    """One problem's score from its runs, per ``settings.reduce``."""
    scores = [s for s, _ in runs]
    if len(scores) == 1:
        return scores[0]
    how = settings.reduce
    if how == "mean":
        return sum(scores) / len(scores)
    if how == "majority":
        # the most common answer (by its text; for task functions, the most common score); ties: earliest
        keys = [_answer_key(a) if a is not None else repr(s) for s, a in runs]
        top = max(Counter(keys).values())
        return next(s for s, k in zip(scores, keys) if Counter(keys)[k] == top)
    from ..scoring import pass_at_k

    lo, hi = settings.score_range
    bad = [s for s in scores if s not in (lo, hi)]
    if bad:
        raise ScoringError(f"reduce={how!r} needs correct/incorrect scores ({lo:g} or {hi:g}); {where} scored "
                           f"{bad[0]!r}; use reduce='mean' for graded scores")
    k = pass_k(how, settings.n_runs)
    assert k is not None
    return lo + (hi - lo) * pass_at_k(len(scores), sum(1 for s in scores if s == hi), k)


def repeats_report(run_scores: Mapping[str, Sequence[Sequence[float]]], settings: RunSettings,
                   pair: tuple[str, str] | None = None) -> dict[str, Any] | None:
    """Per model (and for the paired difference of ``pair``): the repeated-runs summary (variance
    components, SE clustered by problem) of its (problems x runs) scores; None with one run or < 2 problems."""
    if settings.n_runs < 2:
        return None
    from ..stats import cluster_bootstrap, repeated_runs

    seed = int(settings.seed or 0)

    def summarise(rows: Sequence[Sequence[float]]) -> dict[str, Any]:
        out = repeated_runs(rows, level=settings.confidence).to_dict()
        if len({v for row in rows for v in row}) > 1:  # the bootstrap of a constant table is that constant
            boot = cluster_bootstrap(rows, level=settings.confidence, n_resamples=1000, seed=seed)
            out["bootstrap"] = {k: v for k, v in boot.to_dict().items() if k in ("method", "se", "low", "high", "seed",
                                                                                 "n_resamples")}
        return out

    out: dict[str, Any] = {"n_runs": settings.n_runs, "reduce": settings.reduce, "models": {}}
    for name, rows in run_scores.items():
        if len(rows) >= 2:
            out["models"][name] = summarise(rows)
    if pair is not None and all(len(run_scores.get(m, ())) >= 2 for m in pair):
        a, b = run_scores[pair[0]], run_scores[pair[1]]
        out["difference"] = summarise([[x - y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)])
    return out if out["models"] else None


def repeats_line(report: dict[str, Any] | None) -> str:
    """One text line per model: mean ± clustered SE, and the between-run / between-problem split."""
    if not report:
        return ""
    lines = []
    for name, r in [*report["models"].items(), *([("A - B", report["difference"])] if "difference" in report else [])]:
        lines.append(f"\n    {name} over {r['n_runs']} runs: mean {r['mean']:.3f} ± {r['se']:.3f} (SE clustered by "
                     f"problem: item part {r['se_item']:.3f}, run part {r['se_run']:.3f}); between-run variance "
                     f"{r['sigma2_run']:.3g}, between-problem {r['sigma2_item']:.3g}")
    return "".join(lines)
