"""Two models on one benchmark suite: exhaustively, or head-to-head with the sequential engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..execution import is_async_callable
from ._base import Benchmark, Problem, resolve_model
from ._result import BenchmarkResult


@dataclass
class HeadToHead:
    """A sequential comparison on a suite: who won (by name, or None), and what stopping early saved.

    ``problems_saved = total_problems - problems_tested``; ``calls_saved`` counts the model calls an exhaustive
    run of both models would have made minus the calls made. ``task_result`` is the engine's ``TaskResult``.
    """

    benchmark: str
    model1_name: str
    model2_name: str
    winner: str | None
    problems_tested: int
    total_problems: int
    problems_saved: int
    calls_made: int
    calls_saved: int
    confidence: float
    seed: int
    source: str
    task_result: Any

    @property
    def resources(self) -> Any:
        """CPU, memory and GPU use of the run (the engine's ``task_result.resources``)."""
        return getattr(self.task_result, "resources", None)

    @property
    def efficiency(self) -> float:
        return self.problems_saved / self.total_problems if self.total_problems else 0.0

    def summary(self) -> str:
        verdict = self.winner if self.winner is not None else f"no winner ({self.task_result.status})"
        return (
            f"{self.benchmark}: {self.model1_name} vs {self.model2_name} -> {verdict} at confidence {self.confidence}; "
            f"{self.problems_tested}/{self.total_problems} problems ({self.problems_saved} saved, "
            f"{self.efficiency:.0%}), {self.calls_made} calls ({self.calls_saved} saved); source: {self.source}"
        )

    def __str__(self) -> str:
        return self.summary()

    def plot(self, path: Any = None) -> Any:
        """The comparison's stopping path as a matplotlib Figure (saved to ``path`` when given); see
        :func:`bayesbench.plots.stopping_path`."""
        return self.task_result.plot(path=path)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "task_result"}
        out["efficiency"] = self.efficiency
        to_dict = getattr(self.task_result, "to_dict", None)
        out["task_result"] = to_dict() if callable(to_dict) else None
        return out


def _prompt_caller(model: Any, name: str) -> Any:
    """A callable(problem) that sends ``problem["prompt"]`` to the model, async if the model is."""
    fn, _ = resolve_model(model, name)
    if is_async_callable(fn):

        async def call_async(problem: Problem) -> Any:
            return await fn(problem["prompt"] if isinstance(problem, dict) else problem)

        return call_async

    def call(problem: Problem) -> Any:
        return fn(problem["prompt"] if isinstance(problem, dict) else problem)

    return call


def _by_likelihood(benchmark: Benchmark, *models: Any) -> bool:
    """Likelihood suites (HellaSwag, TruthfulQA) compare by log-likelihood when asked to, or by default when both
    models can."""
    if not hasattr(benchmark, "choice_model"):
        return False
    mode = getattr(benchmark, "scoring", "generate")
    able = all(callable(getattr(m, "loglikelihood", None)) for m in models)
    if mode == "loglikelihood" and not able:
        raise ConfigError("scoring='loglikelihood' needs both models to offer loglikelihood(context, continuations)")
    return mode == "loglikelihood" or (mode == "auto" and able)


def compare_models(
    model1: Any,
    model2: Any,
    model1_name: str = "model1",
    model2_name: str = "model2",
    benchmark: Benchmark | None = None,
    *,
    confidence: float | None = None,
    seed: int = 0,
    max_concurrency: int = 8,
    max_retries: int = 2,
    batch_size: int = 8,
    n_runs: int = 1,
    reduce: str = "mean",
) -> tuple[BenchmarkResult, BenchmarkResult] | HeadToHead:
    """Compare two models on ``benchmark``.

    Without ``confidence``: evaluate both on every selected problem and return ``(result1, result2)``.
    With ``confidence`` (e.g. 0.95): hand the suite's ``problems()`` and ``score`` to the sequential engine
    (``bayesbench.BayesianBenchmark(...).compare``), which stops as soon as the winner is clear (anytime-valid),
    and return a :class:`HeadToHead` with the problems and calls saved. ``seed`` orders the problems for the
    engine; failed calls score 0 and are counted (never dropped). HellaSwag compares by log-likelihood (acc_norm)
    when both models offer ``loglikelihood`` (``scoring="auto"``), else by the generated letter. ``n_runs`` /
    ``reduce``: ask every problem ``n_runs`` times and reduce the runs by mean, majority or pass@K (see
    docs/repeated-runs.md); the engine decides on the reduced scores.
    """
    if not isinstance(benchmark, Benchmark):
        raise ConfigError(
            f"`benchmark` must be a benchmark suite such as MMLU(...), got {type(benchmark).__name__}; "
            "pass benchmark=MMLU(tasks=[...], n_problems_per_task=...)"
        )
    if model1_name == model2_name:
        raise ConfigError(f"`model1_name` and `model2_name` must differ, got {model1_name!r} twice")
    if confidence is None:
        r1 = benchmark.evaluate(model1, max_concurrency=max_concurrency, max_retries=max_retries,
                                model_name=model1_name, n_runs=n_runs, reduce=reduce)
        r2 = benchmark.evaluate(model2, max_concurrency=max_concurrency, max_retries=max_retries,
                                model_name=model2_name, n_runs=n_runs, reduce=reduce)
        return r1, r2
    from .. import BayesianBenchmark
    from ..execution import RetryPolicy

    engine = BayesianBenchmark(
        confidence=confidence, seed=seed, max_concurrency=max_concurrency, batch_size=batch_size,
        n_runs=n_runs, reduce=reduce, on_error="zero", retry=RetryPolicy(max_attempts=max_retries + 1, backoff_base=0.2, backoff_max=5.0),
    )
    problems = benchmark.problems()
    pairs = ((model1, model1_name), (model2, model2_name))
    if _by_likelihood(benchmark, model1, model2):  # a model that only scores need not generate
        callers = [benchmark.choice_model(m, n) for m, n in pairs]
    else:
        callers = [_prompt_caller(m, n) for m, n in pairs]
    task = engine.compare(
        model_a=callers[0],
        model_b=callers[1],
        score_fn=benchmark.score,
        dataset=problems,
        name=benchmark.name,
        model_a_name=model1_name,
        model_b_name=model2_name,
    )
    winner = {"model_a": model1_name, "model_b": model2_name}.get(task.winner) if task.winner else None
    total = len(problems)
    calls = int(getattr(task, "model_calls", 2 * task.problems_tested))
    return HeadToHead(
        benchmark=benchmark.name, model1_name=model1_name, model2_name=model2_name, winner=winner,
        problems_tested=task.problems_tested, total_problems=total, problems_saved=total - task.problems_tested,
        calls_made=calls, calls_saved=2 * total * n_runs - calls, confidence=float(confidence), seed=seed,
        source=benchmark.data_source, task_result=task,
    )
