"""The front door for two-model comparisons: ``BayesianBenchmark``, ``@benchmark`` and ``@suite``.

Thin by design: each builds :class:`~bayesbench.engine.RunSettings` and hands the loop to the engine.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from .engine import BenchmarkReport, RunSettings, TaskResult, compare_async, run_sync, run_task_async
from .errors import ConfigError
from .execution import RetryPolicy
from .posteriors import BetaPosterior


@dataclass
class _Task:
    name: str
    fn: Callable[[Any], Any]
    dataset: Any
    posterior_factory: Callable[[], Any] | None


class BayesianBenchmark:
    """Compare two models task by task, stopping each task as soon as the evidence is enough.

    Parameters (all keyword; defaults follow the original bayesbench where it had the knob):

    confidence: 1 − α of every decision (0.95). A declared winner is wrong with probability ≤ α/2,
        for every stopping time (anytime-valid), unless ``rule="posterior"``.
    skip_threshold: level of the equivalence ("non-discriminating") stop, used only when
        ``equivalence_margin`` is set: the task stops as equivalent once the interval for the
        difference at level ``skip_threshold`` lies inside ±``equivalence_margin``.
    min_samples: no decision is looked at before this many problems (3).
    posterior_factory: makes the reported posteriors (``BetaPosterior`` for 0/1 scores,
        ``lambda: NormalPosterior(mu_0=0.3)`` for continuous ones); reporting only under the default rule.
    rule: ``"anytime"`` (default), ``"full_benchmark"`` (answers "what would the full run say?"),
        ``"posterior"`` (the original rule, kept to reproduce old results: it declares false winners
        in most runs between equal models), or ``"fixed"`` (run everything, one paired test).
    equivalence_margin: δ on the score scale, or None (default: never stop for equivalence).
        0.05 suits screening, 0.02 leaderboard-grade claims on large banks.
    seed: seed of the problem shuffle (None: drawn at random and recorded in the result).
    batch_size: problems per engine update (8); an early stop overshoots by at most one batch.
    max_concurrency: model calls in flight at once (8).
    max_problems: budget per task (None: the whole dataset); hitting it ends the task UNDECIDED.
    max_cost_usd: money budget per task, from the executor's price table (None: no limit); once the
        calls made cost this much the task ends UNDECIDED (``stop_reason="cost_budget_exhausted"``).
        Checked at batch ends, so the calls in flight (at most two batches) may go past it.
    on_error: ``"raise"`` (default) raises ``ModelError`` after the retries, carrying the partial
        result; ``"zero"`` scores a failed call as the lowest score and counts it in ``errors``.
    retry, timeout: retry policy and per-call timeout in seconds for model calls.
    score_range: a-priori (low, high) bounds of the scores ((0, 1)).
    correction: None, or ``"bonferroni"`` to split α over the tasks for a benchmark-wide claim.
    store: a :class:`bayesbench.store.Store` or a SQLite path: records runs, calls, scores and
        decisions, caches responses, and resumes an interrupted identical run without repeating calls.
    executor: a configured :class:`bayesbench.execution.Executor` (rate limits, prices, per-model
        concurrency...) for full control over how calls are made.
    """

    def __init__(
        self,
        confidence: float = 0.95,
        skip_threshold: float = 0.85,
        min_samples: int = 3,
        posterior_factory: Callable[[], Any] = BetaPosterior,
        *,
        rule: str = "anytime",
        equivalence_margin: float | None = None,
        seed: int | None = None,
        batch_size: int = 8,
        max_concurrency: int = 8,
        max_problems: int | None = None,
        max_cost_usd: float | None = None,
        on_error: str = "raise",
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        score_range: tuple[float, float] = (0.0, 1.0),
        correction: str | None = None,
        store: Any = None,
        executor: Any = None,
    ) -> None:
        self.store = store
        self.executor = executor
        self.settings = RunSettings(
            confidence=confidence,
            skip_threshold=skip_threshold,
            min_samples=min_samples,
            posterior_factory=posterior_factory,
            rule=rule,
            equivalence_margin=equivalence_margin,
            seed=seed,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            max_problems=max_problems,
            max_cost_usd=max_cost_usd,
            on_error=on_error,
            retry=retry,
            timeout=timeout,
            score_range=score_range,
        )
        if correction not in (None, "bonferroni"):
            raise ConfigError(f"`correction` must be None or 'bonferroni', got {correction!r}")
        self.correction = correction
        self.tasks: dict[str, _Task] = {}

    @property
    def confidence(self) -> float:
        return self.settings.confidence

    def configure(self, **changes: Any) -> "BayesianBenchmark":
        """Change settings after construction (the CLI uses this for its flags); validated again."""
        self.settings = self.settings.replace(**changes)
        return self

    def task(
        self,
        dataset: Any,
        name: str | None = None,
        posterior_factory: Callable[[], Any] | None = None,
    ) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        """Register a task: the decorated function takes a problem and returns ``(score_a, score_b)``."""

        def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
            task_name = name or fn.__name__
            if task_name in self.tasks:
                raise ConfigError(f"a task named {task_name!r} is already registered; pass name= to tell them apart")
            self.tasks[task_name] = _Task(task_name, fn, dataset, posterior_factory)
            return fn

        return register

    def add_task(self, name: str, fn: Callable[[Any], Any], dataset: Any,
                 posterior_factory: Callable[[], Any] | None = None) -> "BayesianBenchmark":
        self.task(dataset=dataset, name=name, posterior_factory=posterior_factory)(fn)
        return self

    def _task_settings(self) -> RunSettings:
        settings = self.settings
        if self.correction == "bonferroni" and len(self.tasks) > 1:
            alpha = settings.alpha / len(self.tasks)
            settings = settings.replace(confidence=1.0 - alpha)
        return settings

    async def run_async(self, verbose: bool = False) -> BenchmarkReport:
        if not self.tasks:
            raise ConfigError("no tasks registered: decorate a function with @bench.task(dataset=...) first")
        settings = self._task_settings()
        results: dict[str, TaskResult] = {}
        for task in self.tasks.values():
            results[task.name] = await run_task_async(
                name=task.name,
                task_fn=task.fn,
                dataset=task.dataset,
                settings=settings,
                posterior_factory=task.posterior_factory or settings.posterior_factory or BetaPosterior,
                verbose=verbose,
                store=self.store,
                executor=self.executor,
            )
        return BenchmarkReport(task_results=results, confidence=self.settings.confidence, correction=self.correction)

    def run(self, verbose: bool = False) -> BenchmarkReport:
        """Run every registered task; returns a :class:`BenchmarkReport`."""
        return run_sync(lambda: self.run_async(verbose=verbose))

    async def compare_async(
        self,
        model_a: Callable[..., Any],
        model_b: Callable[..., Any],
        score_fn: Callable[..., Any],
        dataset: Any,
        name: str = "comparison",
        verbose: bool = False,
        model_a_name: str = "model_a",
        model_b_name: str = "model_b",
    ) -> TaskResult:
        settings = self.settings
        return await compare_async(
            name=name,
            model_a=model_a,
            model_b=model_b,
            score_fn=score_fn,
            dataset=dataset,
            settings=settings,
            posterior_factory=settings.posterior_factory or BetaPosterior,
            model_a_name=model_a_name,
            model_b_name=model_b_name,
            verbose=verbose,
            store=self.store,
            executor=self.executor,
        )

    def compare(
        self,
        model_a: Callable[..., Any],
        model_b: Callable[..., Any],
        score_fn: Callable[..., Any],
        dataset: Any,
        name: str = "comparison",
        verbose: bool = False,
        model_a_name: str = "model_a",
        model_b_name: str = "model_b",
    ) -> TaskResult:
        """Ask both models each problem, score with ``score_fn(problem, response)``, stop when clear."""
        return run_sync(
            lambda: self.compare_async(model_a, model_b, score_fn, dataset, name=name, verbose=verbose,
                                       model_a_name=model_a_name, model_b_name=model_b_name)
        )


class BenchmarkTask:
    """What ``@benchmark(...)`` returns: still callable as the score function, plus ``run()``."""

    def __init__(self, score_fn: Callable[..., Any], bench: BayesianBenchmark, model_a: Any, model_b: Any,
                 dataset: Any) -> None:
        self.score_fn = score_fn
        self.bench = bench
        self.model_a = model_a
        self.model_b = model_b
        self.dataset = dataset
        self.__name__ = getattr(score_fn, "__name__", "benchmark")
        self.__doc__ = score_fn.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.score_fn(*args, **kwargs)

    def run(self, verbose: bool = False) -> TaskResult:
        return self.bench.compare(self.model_a, self.model_b, self.score_fn, self.dataset, name=self.__name__,
                                  verbose=verbose)

    async def run_async(self, verbose: bool = False) -> TaskResult:
        return await self.bench.compare_async(self.model_a, self.model_b, self.score_fn, self.dataset,
                                              name=self.__name__, verbose=verbose)


def benchmark(
    model_a: Callable[..., Any],
    model_b: Callable[..., Any],
    dataset: Any,
    confidence: float = 0.95,
    skip_threshold: float = 0.85,
    min_samples: int = 3,
    posterior_factory: Callable[[], Any] = BetaPosterior,
    *,
    rule: str = "anytime",
    equivalence_margin: float | None = None,
    seed: int | None = None,
    batch_size: int = 8,
    max_concurrency: int = 8,
    max_problems: int | None = None,
    max_cost_usd: float | None = None,
    on_error: str = "raise",
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    score_range: tuple[float, float] = (0.0, 1.0),
    store: Any = None,
    executor: Any = None,
) -> Callable[[Callable[..., Any]], BenchmarkTask]:
    """Decorate a score function ``(problem, response) -> score`` to compare two models on a dataset.

    >>> @benchmark(model_a=fn_a, model_b=fn_b, dataset=problems, confidence=0.95)
    ... def exact_match(problem, response): return response.strip() == problem["answer"]
    >>> exact_match.run().winner
    """
    bench = BayesianBenchmark(
        confidence=confidence, skip_threshold=skip_threshold, min_samples=min_samples,
        posterior_factory=posterior_factory, rule=rule, equivalence_margin=equivalence_margin, seed=seed,
        batch_size=batch_size, max_concurrency=max_concurrency, max_problems=max_problems, max_cost_usd=max_cost_usd,
        on_error=on_error,
        retry=retry, timeout=timeout, score_range=score_range, store=store, executor=executor,
    )

    def wrap(score_fn: Callable[..., Any]) -> BenchmarkTask:
        if not callable(score_fn):
            raise ConfigError("@benchmark must decorate a score function (problem, response) -> score")
        return BenchmarkTask(score_fn, bench, model_a, model_b, dataset)

    return wrap


def suite(
    confidence: float = 0.95,
    skip_threshold: float = 0.85,
    min_samples: int = 3,
    posterior_factory: Callable[[], Any] = BetaPosterior,
    *,
    rule: str = "anytime",
    equivalence_margin: float | None = None,
    seed: int | None = None,
    batch_size: int = 8,
    max_concurrency: int = 8,
    max_problems: int | None = None,
    max_cost_usd: float | None = None,
    on_error: str = "raise",
    correction: str | None = None,
    store: Any = None,
    executor: Any = None,
) -> Callable[[type], type]:
    """Turn a class into a benchmark suite: every ``task_<name>`` attribute is a task on ``dataset``.

    A task is a function ``problem -> (score_a, score_b)`` (use ``staticmethod`` or a plain function
    attribute). A class attribute ``dataset_<name>`` overrides ``dataset`` for that task. The class
    gains ``run()``, ``run_async()`` and a ``bench`` attribute (its :class:`BayesianBenchmark`).
    """

    def build(cls: type) -> type:
        bench = BayesianBenchmark(
            confidence=confidence, skip_threshold=skip_threshold, min_samples=min_samples,
            posterior_factory=posterior_factory, rule=rule, equivalence_margin=equivalence_margin, seed=seed,
            batch_size=batch_size, max_concurrency=max_concurrency, max_problems=max_problems, max_cost_usd=max_cost_usd,
        on_error=on_error,
            correction=correction, store=store, executor=executor,
        )
        found = False
        for attr, raw in list(vars(cls).items()):
            if not attr.startswith("task_"):
                continue
            fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
            if isinstance(raw, classmethod):
                fn = getattr(cls, attr)
            if not callable(fn):
                continue
            if not isinstance(raw, (staticmethod, classmethod)) and _takes_self(fn):
                instance = cls.__new__(cls)
                fn = getattr(instance, attr)
            name = attr[len("task_"):]
            dataset = getattr(cls, f"dataset_{name}", getattr(cls, "dataset", None))
            bench.add_task(name, fn, dataset)
            found = True
        if not found:
            raise ConfigError(f"@suite class {cls.__name__} has no task_* functions; add e.g. task_reasoning")
        cls.bench = bench  # type: ignore[attr-defined]
        cls.run = staticmethod(bench.run)  # type: ignore[attr-defined]
        cls.run_async = staticmethod(bench.run_async)  # type: ignore[attr-defined]
        return cls

    return build


def _takes_self(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return len(params) >= 2 and params[0] == "self"
