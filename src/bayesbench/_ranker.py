"""The front door for ranking several models: ``BayesianRanker``."""

from __future__ import annotations

from typing import Any, Callable

from .engine import RankingResult, RunSettings, rank_async, run_sync
from .errors import ConfigError
from .execution import RetryPolicy
from .posteriors import BetaPosterior


class BayesianRanker:
    """Rank models with a race: pairwise anytime-valid tests, Holm over all pairs, retirement.

    Every claim "X is better than Y" in the result holds simultaneously with probability
    ≥ ``confidence`` (family-wise). ``goal="rank"`` settles the full order; ``goal="top1"`` only
    finds the best model, dropping each model as soon as one is certified better. Other parameters
    mean what they mean in :class:`~bayesbench.BayesianBenchmark`; ``rule`` is one of
    ``"anytime"``, ``"full_benchmark"`` or ``"fixed"``.
    """

    def __init__(
        self,
        confidence: float = 0.95,
        skip_threshold: float = 0.85,
        min_samples: int = 5,
        posterior_factory: Callable[[], Any] = BetaPosterior,
        *,
        rule: str = "anytime",
        goal: str = "rank",
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
    ) -> None:
        self.store = store
        self.executor = executor
        self.settings = RunSettings(
            confidence=confidence, skip_threshold=skip_threshold, min_samples=min_samples,
            posterior_factory=posterior_factory, rule=rule, goal=goal, equivalence_margin=equivalence_margin,
            seed=seed, batch_size=batch_size, max_concurrency=max_concurrency, max_problems=max_problems,
            max_cost_usd=max_cost_usd, on_error=on_error, retry=retry, timeout=timeout, score_range=score_range,
        )
        self.models: dict[str, Callable[..., Any]] = {}
        self.score_fn: Callable[..., Any] | None = None

    def add_model(self, name: str, fn: Callable[..., Any]) -> "BayesianRanker":
        """Add a model under a unique name; returns the ranker so calls chain."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"model name must be a non-empty string, got {name!r}")
        if name in self.models:
            raise ConfigError(f"a model named {name!r} is already added; model names must be unique")
        if not callable(fn):
            raise ConfigError(f"model {name!r} must be a callable (sync or async), got {type(fn).__name__}")
        self.models[name] = fn
        return self

    def remove_model(self, name: str) -> "BayesianRanker":
        if name not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise ConfigError(f"unknown model {name!r}; models added so far: {known}")
        del self.models[name]
        return self

    def evaluate(self, score_fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator that sets the score function ``(problem, response) -> score``."""
        self.score_fn = score_fn
        return score_fn

    async def rank_async(
        self, dataset: Any, score_fn: Callable[..., Any] | None = None, verbose: bool = False
    ) -> RankingResult:
        settings = self.settings
        return await rank_async(
            models=dict(self.models),
            score_fn=score_fn or self.score_fn,
            dataset=dataset,
            settings=settings,
            posterior_factory=settings.posterior_factory or BetaPosterior,
            verbose=verbose,
            store=self.store,
            executor=self.executor,
        )

    def rank(self, dataset: Any, score_fn: Callable[..., Any] | None = None, verbose: bool = False) -> RankingResult:
        """Race the models on ``dataset``; returns a :class:`RankingResult`."""
        return run_sync(lambda: self.rank_async(dataset, score_fn=score_fn, verbose=verbose))
