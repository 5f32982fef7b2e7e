"""Compare two models (or run one two-model task) sequentially and build its :class:`TaskResult`."""

from __future__ import annotations

import asyncio
import functools
import inspect
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, ModelError, ScoringError
from ..execution import CallRecord, Executor
from ..stats import make_pair_test, paired_prob_a_beats_b
from ._dataset import callable_label, check_dataset, check_score
from ._loop import LoopAborted, run_loop, shuffled_order
from ._progress import Progress
from ._repeats import ask_runs, reduce_runs, repeats_report
from ._results import StoppingPath, TaskResult, e_values_from_log, verdict_to_winner
from ._run import RunContext
from ._settings import RunSettings, engine_config
from ._warmup import scipy_ready


def as_model_callable(model: Any) -> Any:
    """A BaseLLM or adapter object becomes ``callable(problem)`` (async when it has ``a_generate``);
    plain functions are used as they are."""
    if callable(getattr(model, "generate", None)) and not inspect.isroutine(model):
        from ..models import as_callable

        return as_callable(model)
    return model


@functools.lru_cache(maxsize=64)
def _score_fn_arity(score_fn: Callable[..., Any]) -> int:
    """2 for ``score_fn(problem, response)``, 1 for ``score_fn(response)`` (read once per function)."""
    try:
        params = [
            p
            for p in inspect.signature(score_fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        return 2 if len(params) >= 2 else 1
    except (TypeError, ValueError):
        return 2


_PLAIN = frozenset({float, int, bool, str})  # results that are certainly not awaitable (fast check)


async def apply_score_fn(score_fn: Callable[..., Any], problem: Any, response: Any) -> Any:
    try:
        arity = _score_fn_arity(score_fn)
    except TypeError:  # an unhashable callable object: read its signature each time
        arity = _score_fn_arity.__wrapped__(score_fn)
    value = score_fn(problem, response) if arity == 2 else score_fn(response)
    if type(value) not in _PLAIN and inspect.isawaitable(value):
        value = await value
    return value


@dataclass
class _Counter:
    calls: int = 0
    errors: int = 0


class PairRun:
    """Shared state of one two-model run: the test, the paired scores, the posteriors."""

    def __init__(self, name: str, problems: list[Any], settings: RunSettings, posterior_factory: Any,
                 ctx: RunContext | None = None) -> None:
        self.name = name
        self.ctx = ctx
        self.journal = ctx.journal if ctx is not None else None
        self.calls_per_record = 1  # a task function asks both models in one record
        self.names = ("model_a", "model_b")  # display names of the two sides
        self.cost_budget_hit = False
        self.problems = problems
        self.settings = settings
        self.posterior_factory = posterior_factory
        bank = len(problems)
        self.limit = bank if settings.max_problems is None else min(bank, settings.max_problems)
        cfg = engine_config(settings, bank)
        self.test = make_pair_test(
            settings.rule,
            cfg,
            confidence=settings.confidence,
            skip_threshold=settings.skip_threshold,
            min_samples=settings.min_samples,
            posterior_factory=posterior_factory,
            seed=settings.seed,
        )
        self.order = shuffled_order(bank, settings.seed)  # type: ignore[arg-type]
        self.scores_a: list[float] = []
        self.scores_b: list[float] = []
        self.fed_ids: list[int] = []  # problem indices in the order they were fed
        self.runs: dict[int, tuple[list[float], list[float]]] = {}  # n_runs > 1: each run's scores per problem
        self.decision: Any = None
        # the engine's decision after each batch (each is a new, immutable object): what a stopping-path
        # figure draws; one append per batch, unpacked only when the result is built
        self.path: list[Any] = []
        self.counter = _Counter()
        self.stop_reason = "bank_exhausted"
        self.scorer: Any = None  # the score or task function; an LLM judge reports itself in the result

    def _update(self, rows: list[tuple[int, float, float]]) -> tuple[list[float], list[float]]:
        ids = [i for i, _, _ in rows]
        a = [x for _, x, _ in rows]
        b = [y for _, _, y in rows]
        self.fed_ids.extend(ids)
        self.scores_a.extend(a)
        self.scores_b.extend(b)
        self.decision = self.test.update(a, b)
        self.path.append(self.decision)
        return a, b

    def feed(self, batch: list[tuple[int, float, float]]) -> bool:
        """One batch of ``(problem index, score_a, score_b)`` in dispatch order; True to stop."""
        a, b = self._update(batch)
        if self.journal is not None:
            self.journal.batch([i for i, _, _ in batch], {"model_a": a, "model_b": b}, self.decision)
        if self.decision.status != "CONTINUE":
            return True
        if self.ctx is not None and self.ctx.over_budget():
            self.cost_budget_hit = True
            return True
        return False

    def feed_leftover(self, rows: list[tuple[int, float, float]]) -> None:
        """After an error: the fully answered problems not yet fed, in dispatch order, so the partial
        result loses nothing computed. Not journaled: the stored run stays resumable as it was."""
        if rows:
            self._update(rows)

    def status_text(self) -> str:
        if self.decision is None:
            return ""
        lo, hi = self.decision.cs
        est = self.decision.estimate
        leader = self.names[0] if est > 0 else self.names[1] if est < 0 else "nobody (tied)"
        return f"leading: {leader}, diff={est:+.3f} CI=[{lo:+.3f}, {hi:+.3f}]"

    async def execute(self, evaluate: Callable[[int], Awaitable[tuple[int, float, float]]], verbose: bool) -> TaskResult:
        progress = Progress(self.name, self.limit, enabled=verbose)
        try:
            await run_loop(
                self.order,
                evaluate,
                self.feed,
                batch_size=self.settings.batch_size,
                first_batch=self.settings.min_samples,
                limit=self.limit,
                progress=progress,
                status=self.status_text,
            )
        except LoopAborted as aborted:
            progress.close("aborted")
            # Whatever failed (a model, a score, the user's own code) surfaces as itself, carrying
            # everything computed so far.
            error = aborted.error
            try:
                self.feed_leftover(aborted.leftover)
            except Exception:  # the partial result then holds what was fed before the error
                pass
            try:
                error.partial_result = self.result(stop_reason="error")  # type: ignore[attr-defined]
            except Exception:  # an exception type that refuses attributes still surfaces
                pass
            raise error from None
        await scipy_ready()  # the result needs scipy: load it off the event loop
        result = self.finish()
        if self.journal is not None:
            self.journal.finish(result.to_dict())
        progress.close(result.winner_name or result.status.lower())
        return result

    def finish(self) -> TaskResult:
        """No more data: close the test if it is still undecided and build the result."""
        if self.decision is None or self.decision.status == "CONTINUE":
            self.decision = self.test.close()
            if self.cost_budget_hit:
                self.stop_reason = "cost_budget_exhausted"
            else:
                self.stop_reason = "budget_exhausted" if self.limit < len(self.problems) else "bank_exhausted"
        else:
            self.stop_reason = self.decision.reason
        return self.result(stop_reason=self.stop_reason)

    def result(self, *, stop_reason: str) -> TaskResult:
        decision = self.decision
        n = len(self.scores_a)
        lo, hi = self.settings.score_range
        scale = hi - lo
        post_a = self.posterior_factory()
        post_b = self.posterior_factory()
        if n:
            _update_many(post_a, self.scores_a)
            _update_many(post_b, self.scores_b)
        norm_a = [(x - lo) / scale for x in self.scores_a]
        norm_b = [(y - lo) / scale for y in self.scores_b]
        p = float(paired_prob_a_beats_b(norm_a, norm_b)) if n else 0.5
        status = decision.status if decision is not None else "UNDECIDED"
        return TaskResult(
            name=self.name,
            winner=verdict_to_winner(status),
            status=status if status != "CONTINUE" else "UNDECIDED",
            problems_tested=n,
            total_problems=len(self.problems),
            p_a_beats_b=p,
            posterior_a=post_a,
            posterior_b=post_b,
            difference=float(decision.estimate) * scale if decision is not None else 0.0,
            ci=(float(decision.cs[0]) * scale, float(decision.cs[1]) * scale) if decision is not None else (-scale, scale),
            e_values=e_values_from_log(decision.log_e) if decision is not None else {},
            stop_reason=stop_reason,
            rule=self.settings.rule,
            confidence=self.settings.confidence,
            seed=int(self.settings.seed),  # type: ignore[arg-type]
            model_calls=self.model_calls,
            n_runs=self.settings.n_runs,
            reduce=self.settings.reduce,
            run_scores=self._run_scores(),
            repeats=repeats_report(self._run_scores() or {}, self.settings, self.names),
            mean_a=sum(self.scores_a) / n if n else float("nan"),
            mean_b=sum(self.scores_b) / n if n else float("nan"),
            errors=self.counter.errors,
            model_a_name=self.names[0],
            model_b_name=self.names[1],
            problem_order=list(self.fed_ids),
            usage=self._usage(n),
            run_id=self.journal.run_id if self.journal is not None else None,
            resumed=bool(self.journal is not None and self.journal.resumed),
            scored_by=_scored_by(self.scorer),
            resources=self.ctx.resources() if self.ctx is not None else None,
            stopping_path=self._stopping_path(scale),
            scores_a=list(self.scores_a),
            scores_b=list(self.scores_b),
        )

    def _run_scores(self) -> dict[str, list[list[float]]] | None:
        """Each fed problem's per-run scores (in ``problem_order``), per model; None for single runs."""
        if self.settings.n_runs < 2:
            return None
        fed = [i for i in self.fed_ids if i in self.runs]
        return {self.names[0]: [self.runs[i][0] for i in fed], self.names[1]: [self.runs[i][1] for i in fed]}

    def _stopping_path(self, scale: float) -> StoppingPath:
        path = self.path
        alpha = 1.0 - self.settings.confidence
        return StoppingPath(n=[d.n for d in path], log_e_a=[float(d.log_e["A"]) for d in path],
                            log_e_b=[float(d.log_e["B"]) for d in path],
                            cs_low=[float(d.cs[0]) * scale for d in path], cs_high=[float(d.cs[1]) * scale for d in path],
                            estimate=[float(d.estimate) * scale for d in path],
                            log_threshold=math.log(2.0 / alpha), confidence=self.settings.confidence,
                            rule=self.settings.rule)

    @property
    def model_calls(self) -> int:
        """Calls that completed (including the look-ahead overshoot); replays count their own."""
        if self.ctx is None:
            return self.counter.calls
        return self.ctx.calls * self.calls_per_record

    def _usage(self, n: int) -> dict[str, Any] | None:
        """Latency, tokens and cost per model, and what stopping early saved (when calls were made)."""
        report = self.ctx.usage() if self.ctx is not None else None
        if report is None:
            return None
        out = report.to_dict()
        # Saved = what the full run would have asked each model (one call per problem) minus what it was
        # asked, look-ahead overshoot included; costs projected from this run's mean priced call.
        total = len(self.problems) * self.settings.n_runs
        out["savings"] = {}
        for model, usage in report.models.items():
            if 0 < usage.calls <= total:
                out["savings"][model] = report.savings(problems_used=usage.calls, problems_total=total)[model].to_dict()
        out["cost"] = self._cost(report, total)
        return out

    def _cost(self, report: Any, total: int) -> dict[str, Any] | None:
        """Per-model dollars (hardware by the hour via ``cost_models``, else the price table): total, per call,
        per correct answer, per 1000 problems and saved by stopping early. None when nothing is priced."""
        from ..ops._cost import cost_report

        if self.calls_per_record != 1:  # a task function's "model" is both sides at once: nothing to price apart
            return None
        lo, hi = self.settings.score_range
        sides = dict(zip(self.names, (self.scores_a, self.scores_b)))
        correct = {m: sum((x - lo) / (hi - lo) for x in v) for m, v in sides.items()}
        used = {m: min(u.calls, total) for m, u in report.models.items()}
        costs = cost_report(report, cost_models=self.settings.cost_models, correct=correct, problems_used=used,
                            problems_total=total)
        return costs.to_dict() if costs.total_usd is not None else None


def _scored_by(scorer: Any) -> dict[str, Any] | None:
    """An LLM judge's ``scoring_info()`` (see bayesbench.builder.JudgeScorer), else None."""
    info = getattr(scorer, "scoring_info", None)
    if not callable(info):
        return None
    try:
        return dict(info())
    except Exception:  # a broken report must not lose the run's result
        return None


def _update_many(posterior: Any, scores: Sequence[float]) -> None:
    if hasattr(posterior, "update_many"):
        posterior.update_many(list(scores))
    else:
        for s in scores:
            posterior.update(s)


def _error_score(record: CallRecord, settings: RunSettings, model_name: str, index: int) -> float:
    """What a failed call scores: raise (the default) or the lowest score, per ``on_error``."""
    if settings.on_error == "zero":
        return float(settings.score_range[0])
    raise ModelError(
        f"model '{model_name}' failed on problem #{index} after {record.attempts} attempt(s): "
        f"{record.error_type}: {str(record.error).rstrip('. ')}. Pass on_error='zero' (CLI: --on-error zero) to "
        "score failed calls as the lowest score, or fix the model; the results computed so far are on this "
        "exception as `.partial_result` (the CLI prints them)."
    )


async def compare_async(
    *,
    name: str,
    model_a: Callable[..., Any],
    model_b: Callable[..., Any],
    score_fn: Callable[..., Any],
    dataset: Any,
    settings: RunSettings,
    posterior_factory: Any,
    model_a_name: str = "model_a",
    model_b_name: str = "model_b",
    verbose: bool = False,
    executor: Executor | None = None,
    store: Any = None,
) -> TaskResult:
    """Ask both models each problem, score the responses, and stop when the evidence is enough."""
    models = (model_a, model_b)
    model_a, model_b = as_model_callable(model_a), as_model_callable(model_b)
    for label, fn in ((f"model {model_a_name!r}", model_a), (f"model {model_b_name!r}", model_b),
                      ("the score function", score_fn)):
        if not callable(fn):  # a setup mistake, not a failed call: ConfigError (CLI exit 2)
            hint = (f"; to call a model by name use an adapter, e.g. bayesbench.adapters.openai_compat."
                    f"openai_model({fn!r})") if isinstance(fn, str) and label != "the score function" else ""
            raise ConfigError(f"{label} must be a callable (sync or async), got {type(fn).__name__} {fn!r}{hint}")
    problems = check_dataset(dataset)
    score_label = callable_label(score_fn, "score function")
    async with RunContext(kind="compare", name=name, problems=problems, settings=settings,
                          functions={"model_a": model_a, "model_b": model_b, "score_fn": score_fn},
                          store=store, executor=executor, models=models) as ctx:
        settings, executor = ctx.settings, ctx.executor
        run = PairRun(name, problems, settings, posterior_factory, ctx)
        run.names = (model_a_name, model_b_name)
        run.scorer = score_fn

        async def score_run(model_name: str, fn: Callable[..., Any], index: int,
                            params: dict[str, int] | None) -> tuple[float, Any]:
            problem = problems[index]
            record = await executor.call(model_name, fn, problem, problem_id=str(index), params=params)
            if not record.ok:
                run.counter.errors += 1
                return _error_score(record, settings, model_name, index), None
            value = await apply_score_fn(score_fn, problem, record.response)
            return (check_score(value, settings, f"{score_label} on problem #{index} (model '{model_name}')"),
                    record.response)

        async def score_one(model_name: str, fn: Callable[..., Any], index: int) -> list[tuple[float, Any]]:
            return await ask_runs(settings, lambda params: score_run(model_name, fn, index, params))

        async def evaluate(index: int) -> tuple[int, float, float]:
            # Both models are asked at once; one Task for the second call (the first runs in this one).
            other = asyncio.ensure_future(score_one(model_b_name, model_b, index))
            try:
                a = await score_one(model_a_name, model_a, index)
            except asyncio.CancelledError:
                other.cancel()
                raise
            except Exception:
                await asyncio.gather(other, return_exceptions=True)  # let it finish: it is recorded and cached
                raise
            b = await other
            where = f"problem #{index}"
            if settings.n_runs > 1:
                run.runs[index] = ([s for s, _ in a], [s for s, _ in b])
            return index, reduce_runs(a, settings, f"model '{model_a_name}' on {where}"), \
                reduce_runs(b, settings, f"model '{model_b_name}' on {where}")

        return await run.execute(evaluate, verbose)


async def run_task_async(
    *,
    name: str,
    task_fn: Callable[[Any], Any],
    dataset: Any,
    settings: RunSettings,
    posterior_factory: Any,
    verbose: bool = False,
    executor: Executor | None = None,
    store: Any = None,
) -> TaskResult:
    """Run a task function that returns ``(score_a, score_b)`` for each problem."""
    if not callable(task_fn):
        raise ModelError(f"task '{name}' must be a callable returning (score_a, score_b), got {type(task_fn).__name__}")
    problems = check_dataset(dataset, f"dataset of task '{name}'")
    async with RunContext(kind="task", name=name, problems=problems, settings=settings, functions={"task": task_fn},
                          store=store, executor=executor) as ctx:
        settings, executor = ctx.settings, ctx.executor
        run = PairRun(name, problems, settings, posterior_factory, ctx)
        run.calls_per_record = 2
        run.scorer = task_fn

        async def one_run(index: int, params: dict[str, int] | None) -> tuple[tuple[float, float], None]:
            record = await executor.call(name, task_fn, problems[index], problem_id=str(index), params=params)
            if not record.ok:
                run.counter.errors += 1
                s = _error_score(record, settings, f"task {name}", index)
                return (s, s), None
            return checked(index, record.response), None

        async def evaluate(index: int) -> tuple[int, float, float]:
            runs = await ask_runs(settings, lambda params: one_run(index, params))
            a = [(pair[0], None) for pair, _ in runs]
            b = [(pair[1], None) for pair, _ in runs]
            if settings.n_runs > 1:
                run.runs[index] = ([s for s, _ in a], [s for s, _ in b])
            where = f"task '{name}' on problem #{index}"
            return index, reduce_runs(a, settings, where + " (score_a)"), reduce_runs(b, settings, where + " (score_b)")

        def checked(index: int, value: Any) -> tuple[float, float]:
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise ScoringError(
                    f"task '{name}' must return a pair (score_a, score_b) for each problem; on problem #{index} it "
                    f"returned {value!r}"
                )
            return (
                check_score(value[0], settings, f"task '{name}' on problem #{index} (score_a)"),
                check_score(value[1], settings, f"task '{name}' on problem #{index} (score_b)"),
            )

        return await run.execute(evaluate, verbose)
