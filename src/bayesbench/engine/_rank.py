"""Rank several models with a racing loop: retire a model as soon as its place is settled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from ..execution import Executor
from ..stats import RankingRace, paired_prob_a_beats_b
from ._dataset import callable_label, check_dataset, check_score
from ._loop import LoopAborted, run_loop, shuffled_order
from ._pair import _error_score, _scored_by, _update_many, apply_score_fn, as_model_callable
from ._progress import Progress
from ._repeats import ask_runs, reduce_runs, repeats_report
from ._results import RankedModel, RankingResult
from ._run import RunContext
from ._settings import RunSettings, check_ranking, engine_config
from ._warmup import scipy_ready


def _tie_groups(order: list[str], claims: set[tuple[str, str]]) -> list[list[str]]:
    """Runs of neighbours in the displayed order that no established claim separates."""
    groups: list[list[str]] = []
    for name in order:
        if groups and (groups[-1][-1], name) not in claims:
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


def _display_order(names: list[str], means: dict[str, float], claims: set[tuple[str, str]]) -> list[str]:
    """Order by the number of models each is certified to beat, then by mean score."""
    wins = {m: sum(1 for a, _ in claims if a == m) for m in names}
    losses = {m: sum(1 for _, b in claims if b == m) for m in names}
    return sorted(names, key=lambda m: (-(wins[m] - losses[m]), -means[m], m))


async def rank_async(
    *,
    models: dict[str, Callable[..., Any]],
    score_fn: Callable[..., Any] | None,
    dataset: Any,
    settings: RunSettings,
    posterior_factory: Any,
    verbose: bool = False,
    executor: Executor | None = None,
    store: Any = None,
) -> RankingResult:
    """Rank ``models`` on ``dataset`` with the sequential race (the async engine behind ``rank``)."""
    check_ranking(settings, len(models))
    originals = list(models.values())
    models = {name: as_model_callable(fn) for name, fn in models.items()}
    if score_fn is None:
        raise ConfigError(
            "no score function: pass rank(..., score_fn=lambda problem, response: ...) or decorate one with "
            "@ranker.evaluate"
        )
    problems = check_dataset(dataset)
    score_label = callable_label(score_fn, "score function")
    async with RunContext(kind="rank", name="ranking", problems=problems, settings=settings,
                          functions={**models, "score_fn": score_fn}, store=store, executor=executor,
                          models=originals) as ctx:
        return await _race(ctx, models, score_fn, score_label, problems, posterior_factory, verbose)


async def _race(ctx: RunContext, models: dict[str, Callable[..., Any]], score_fn: Callable[..., Any],
                score_label: str, problems: list[Any], posterior_factory: Any, verbose: bool) -> RankingResult:
    settings, executor, journal = ctx.settings, ctx.executor, ctx.journal
    names = list(models)
    bank = len(problems)
    limit = bank if settings.max_problems is None else min(bank, settings.max_problems)
    fixed = settings.rule == "fixed"
    cfg = engine_config(settings, bank)
    race = RankingRace(names, cfg, goal=settings.goal, rule="fixed" if fixed else "anytime")  # type: ignore[arg-type]
    order = shuffled_order(bank, settings.seed)  # type: ignore[arg-type]
    scores: dict[str, dict[int, float]] = {m: {} for m in names}
    runs: dict[str, dict[int, list[float]]] = {m: {} for m in names}  # n_runs > 1: each run's score
    cost_budget_hit: list[bool] = []

    async def score_run(model: str, index: int, params: dict[str, int] | None) -> tuple[float, Any]:
        problem = problems[index]
        record = await executor.call(model, models[model], problem, problem_id=str(index), params=params)
        if not record.ok:
            return _error_score(record, settings, model, index), None
        value = await apply_score_fn(score_fn, problem, record.response)
        return check_score(value, settings, f"{score_label} on problem #{index} (model '{model}')"), record.response

    async def score_one(model: str, index: int) -> float:
        scored = await ask_runs(settings, lambda params: score_run(model, index, params))
        if settings.n_runs > 1:
            runs[model][index] = [s for s, _ in scored]
        return reduce_runs(scored, settings, f"model '{model}' on problem #{index}")

    async def evaluate(index: int) -> tuple[int, dict[str, float]]:
        active = list(race.active_models()) if not fixed else names
        # every model's call finishes (and is recorded) before a failure surfaces
        values = await asyncio.gather(*(score_one(m, index) for m in active), return_exceptions=True)
        for v in values:
            if isinstance(v, BaseException):
                raise v
        return index, dict(zip(active, values))  # type: ignore[arg-type]

    def update(batch: list[tuple[int, dict[str, float]]]) -> dict[str, list[float]]:
        # Rows dispatched earlier hold every model still active now (the race only retires models).
        active = names if fixed else list(race.active_models())
        for index, row in batch:
            for m, s in row.items():
                scores[m][index] = s
        values = {m: [row[m] for _, row in batch] for m in active}
        race.update(values)
        return values

    def feed(batch: list[tuple[int, dict[str, float]]]) -> bool:
        values = update(batch)
        if journal is not None:
            journal.batch([index for index, _ in batch], values, None)
        if (not fixed) and race.done():
            return True
        if ctx.over_budget():
            cost_budget_hit.append(True)
            return True
        return False

    def result(stop_reason: str) -> RankingResult:
        out = build_ranking_result(
            names, scores, set(race.claims()), settings, posterior_factory,
            calls=ctx.calls, bank=bank, stop_reason=stop_reason,
        )
        usage = ctx.usage()
        if usage is not None:
            out.usage = usage.to_dict()
            out.usage["cost"] = _ranking_cost(usage, scores, settings, bank)
        if settings.n_runs > 1:
            out.run_scores = {m: [runs[m][i] for i in sorted(scores[m]) if i in runs[m]] for m in names}
            out.repeats = repeats_report(out.run_scores, settings)
        out.n_runs, out.reduce = settings.n_runs, settings.reduce
        out.run_id = ctx.run_id
        out.scored_by = _scored_by(score_fn)
        out.resources = ctx.resources()
        out.item_scores = {m: {str(i): float(v) for i, v in by_item.items()} for m, by_item in scores.items()}
        return out

    progress = Progress("ranking", limit, enabled=verbose)
    try:
        outcome = await run_loop(
            order, evaluate, feed, batch_size=settings.batch_size, first_batch=settings.min_samples,
            limit=limit, progress=progress,
            status=lambda: f"{len(race.active_models())} model(s) racing",
        )
    except LoopAborted as aborted:
        progress.close("aborted")
        error = aborted.error
        try:  # every problem all its models answered, in dispatch order (not journaled)
            if aborted.leftover:
                update(aborted.leftover)
        except Exception:
            pass
        try:
            error.partial_result = result("error")  # type: ignore[attr-defined]
        except Exception:  # an exception type that refuses attributes still surfaces
            pass
        raise error from None
    if not race.done():
        race.close()
    if cost_budget_hit:
        stop_reason = "cost_budget_exhausted"
    else:
        stop_reason = "settled" if outcome.stopped_early else ("bank_exhausted" if limit == bank else "budget_exhausted")
    progress.close(stop_reason)
    await scipy_ready()  # the result needs scipy: load it off the event loop
    final = result(stop_reason)
    if journal is not None:
        journal.finish(final.to_dict())
    return final


def build_ranking_result(
    names: list[str],
    scores: dict[str, dict[int, float]],
    claims: set[tuple[str, str]],
    settings: RunSettings,
    posterior_factory: Any,
    *,
    calls: int,
    bank: int,
    stop_reason: str,
) -> RankingResult:
    """Scores, intervals, P(> next) and tie groups from each model's scores by problem index."""
    lo, hi = settings.score_range
    means = {m: (sum(v.values()) / len(v) if v else float("nan")) for m, v in scores.items()}
    display = _display_order(names, means, claims)
    ranking = []
    for rank, name in enumerate(display, start=1):
        post = posterior_factory()
        values = [scores[name][i] for i in sorted(scores[name])]
        if values:
            _update_many(post, values)
        ci = tuple(float(x) for x in post.credible_interval(settings.confidence))
        nxt = display[rank] if rank < len(display) else None
        p_next = None
        if nxt is not None:
            common = sorted(set(scores[name]) & set(scores[nxt]))
            if common:
                a = [(scores[name][i] - lo) / (hi - lo) for i in common]
                b = [(scores[nxt][i] - lo) / (hi - lo) for i in common]
                p_next = float(paired_prob_a_beats_b(a, b))
        ranking.append(
            RankedModel(rank=rank, name=name, score=float(means[name]), ci=(ci[0], ci[1]),
                        problems_tested=len(values), p_beats_next=p_next, next_model=nxt)
        )
    pairwise = {}
    for i, a in enumerate(display):
        for b in display[i + 1:]:
            common = sorted(set(scores[a]) & set(scores[b]))
            diff = sum(scores[a][k] - scores[b][k] for k in common) / len(common) if common else None
            claim = a if (a, b) in claims else b if (b, a) in claims else None
            pairwise[f"{a} vs {b}"] = {"n": len(common), "difference": diff, "better": claim}
    return RankingResult(
        ranking=ranking,
        claims=sorted(claims, key=lambda c: (display.index(c[0]), display.index(c[1]))),
        tie_groups=_tie_groups(display, claims),
        confidence=settings.confidence,
        rule=settings.rule,
        goal=settings.goal,
        seed=int(settings.seed),  # type: ignore[arg-type]
        calls_used=calls,
        calls_exhaustive=len(names) * bank * settings.n_runs,
        total_problems=bank,
        stop_reason=stop_reason,
        pairwise=pairwise,
    )


def _ranking_cost(usage: Any, scores: Any, settings: RunSettings, bank: int) -> dict[str, Any] | None:
    """Per-model dollars of a ranking (see PairRun._cost); None when nothing is priced."""
    from ..ops._cost import cost_report

    lo, hi = settings.score_range
    correct = {}
    for m, by_problem in scores.items():
        values = by_problem.values() if hasattr(by_problem, "values") else by_problem
        correct[m] = float(sum((float(x) - lo) / (hi - lo) for x in values if x is not None and x == x))
    used = {m: min(u.calls, bank) for m, u in usage.models.items()}
    report = cost_report(usage, cost_models=settings.cost_models, correct=correct, problems_used=used,
                         problems_total=bank)
    return report.to_dict() if report.total_usd is not None else None
