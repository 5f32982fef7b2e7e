"""The front door for two-model comparisons: ``BayesianBenchmark``, ``@benchmark`` and ``@suite``.

Thin by design: each builds :class:`~bayesbench.engine.RunSettings` and hands the loop to the engine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine import BenchmarkReport, RunSettings, TaskResult, compare_async, run_sync, run_task_async
from .engine._settings import RunOptions, check_names, names, with_settings_signature
from .engine._warmup import prefetch_scipy
from .errors import ConfigError

if TYPE_CHECKING:
    from typing_extensions import Unpack


@dataclass
class _Task:
    name: str
    fn: Callable[[Any], Any]
    dataset: Any
    posterior_factory: Callable[[], Any] | None


class BayesianBenchmark:
    """Compare two models task by task, stopping each task as soon as the evidence is enough.

    Takes every run setting of :class:`~bayesbench.engine.RunSettings` (docs/engine.md has the table;
    the first four may be given by position, as in the original package:
    ``BayesianBenchmark(0.95, 0.85, 3, BetaPosterior)``), plus:

    correction: None, or ``"bonferroni"`` to split α over the tasks for a benchmark-wide claim.
    store: a :class:`bayesbench.store.Store` or a SQLite path: records runs, calls, scores and
        decisions, caches responses, and resumes an interrupted identical run without repeating calls.
    executor: a configured :class:`bayesbench.execution.Executor` (rate limits, prices, per-model
        concurrency...) for full control over how calls are made.
    """

    @with_settings_signature(ranking=False, live=True)
    def __init__(self, *args: Any, correction: str | None = None, store: Any = None, executor: Any = None,
                 **options: Unpack[RunOptions]) -> None:
        self.store = store
        self.executor = executor
        self.settings = RunSettings.build("BayesianBenchmark", args, options)
        if correction not in (None, "bonferroni"):
            raise ConfigError(f"`correction` must be None or 'bonferroni', got {correction!r}")
        self.correction = correction
        self.tasks: dict[str, _Task] = {}

    @property
    def confidence(self) -> float:
        return self.settings.confidence

    def configure(self, **changes: Unpack[RunOptions]) -> BayesianBenchmark:
        """Change settings after construction (the CLI uses this for its flags); validated again."""
        check_names("BayesianBenchmark.configure", changes, names(ranking=False))
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
                 posterior_factory: Callable[[], Any] | None = None) -> BayesianBenchmark:
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
        prefetch_scipy()
        settings = self._task_settings()
        results: list[TaskResult] = []
        for task in self.tasks.values():
            task_settings = settings if task.posterior_factory is None else \
                settings.replace(posterior_factory=task.posterior_factory)
            results.append(await run_task_async(
                name=task.name,
                task_fn=task.fn,
                dataset=task.dataset,
                settings=task_settings,
                posterior_factory=task_settings.posteriors,
                verbose=verbose,
                store=self.store,
                executor=self.executor,
            ))
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
        prefetch_scipy()
        settings = self.settings
        return await compare_async(
            name=name,
            model_a=model_a,
            model_b=model_b,
            score_fn=score_fn,
            dataset=dataset,
            settings=settings,
            posterior_factory=settings.posteriors,
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


@with_settings_signature(ranking=False, live=True)
def benchmark(model_a: Callable[..., Any], model_b: Callable[..., Any], dataset: Any, *args: Any, store: Any = None,
              executor: Any = None, **options: Unpack[RunOptions]) -> Callable[[Callable[..., Any]], BenchmarkTask]:
    """Decorate a score function ``(problem, response) -> score`` to compare two models on a dataset.

    Takes every run setting (see :class:`BayesianBenchmark`; the first four may follow ``dataset`` by position).

    >>> @benchmark(model_a=fn_a, model_b=fn_b, dataset=problems, confidence=0.95)
    ... def exact_match(problem, response): return response.strip() == problem["answer"]
    >>> exact_match.run().winner
    """
    bench = BayesianBenchmark(store=store, executor=executor)
    bench.settings = RunSettings.build("benchmark", args, options)

    def wrap(score_fn: Callable[..., Any]) -> BenchmarkTask:
        if not callable(score_fn):
            raise ConfigError("@benchmark must decorate a score function (problem, response) -> score")
        return BenchmarkTask(score_fn, bench, model_a, model_b, dataset)

    return wrap


@with_settings_signature(ranking=False, live=True)
def suite(*args: Any, correction: str | None = None, store: Any = None, executor: Any = None,
          **options: Unpack[RunOptions]) -> Callable[[type], type]:
    """Turn a class into a benchmark suite: every ``task_<name>`` attribute is a task on ``dataset``.

    Takes every run setting and ``correction``, ``store``, ``executor``, as :class:`BayesianBenchmark` does.
    A task is a function ``problem -> (score_a, score_b)`` (use ``staticmethod`` or a plain function
    attribute). A class attribute ``dataset_<name>`` overrides ``dataset`` for that task. The class
    gains ``run()``, ``run_async()`` and a ``bench`` attribute (its :class:`BayesianBenchmark`).
    """
    settings = RunSettings.build("suite", args, options)

    def build(cls: type) -> type:
        bench = BayesianBenchmark(correction=correction, store=store, executor=executor)
        bench.settings = settings
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
