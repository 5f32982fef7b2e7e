"""The front door for ranking several models: ``BayesianRanker``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .engine import RankingResult, RunSettings, rank_async, run_sync
from .engine._settings import RunOptions, with_settings_signature
from .engine._warmup import prefetch_scipy
from .errors import ConfigError

if TYPE_CHECKING:
    from typing_extensions import Unpack

# a race compares every pair, so each pair's first look waits a little longer than a two-model run's
RANKER_DEFAULTS = {"min_samples": 5}


class BayesianRanker:
    """Rank models with a race: pairwise anytime-valid tests, Holm over all pairs, retirement.

    Every claim "X is better than Y" in the result holds simultaneously with probability
    ≥ ``confidence`` (family-wise). ``goal="rank"`` settles the full order; ``goal="top1"`` only
    finds the best model, dropping each model as soon as one is certified better. Takes every run
    setting (docs/engine.md; ``min_samples`` defaults to 5 here), plus ``store`` and ``executor`` as
    :class:`~bayesbench.BayesianBenchmark` does; ``rule`` is one of ``"anytime"``, ``"full_benchmark"``
    or ``"fixed"``.
    """

    @with_settings_signature(ranking=True, live=True, defaults=RANKER_DEFAULTS)
    def __init__(self, *args: Any, store: Any = None, executor: Any = None, **options: Unpack[RunOptions]) -> None:
        self.store = store
        self.executor = executor
        self.settings = RunSettings.build("BayesianRanker", args, options, ranking=True, defaults=RANKER_DEFAULTS)
        self.models: dict[str, Callable[..., Any]] = {}
        self.score_fn: Callable[..., Any] | None = None

    def add_model(self, name: str, fn: Callable[..., Any]) -> BayesianRanker:
        """Add a model under a unique name; returns the ranker so calls chain."""
        if not isinstance(name, str) or not name:
            raise ConfigError(f"model name must be a non-empty string, got {name!r}")
        if name in self.models:
            raise ConfigError(f"a model named {name!r} is already added; model names must be unique")
        if not callable(fn):
            raise ConfigError(f"model {name!r} must be a callable (sync or async), got {type(fn).__name__}")
        self.models[name] = fn
        return self

    def remove_model(self, name: str) -> BayesianRanker:
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
        prefetch_scipy()
        settings = self.settings
        return await rank_async(
            models=dict(self.models),
            score_fn=score_fn or self.score_fn,
            dataset=dataset,
            settings=settings,
            posterior_factory=settings.posteriors,
            verbose=verbose,
            store=self.store,
            executor=self.executor,
        )

    def rank(self, dataset: Any, score_fn: Callable[..., Any] | None = None, verbose: bool = False) -> RankingResult:
        """Race the models on ``dataset``; returns a :class:`RankingResult`."""
        return run_sync(lambda: self.rank_async(dataset, score_fn=score_fn, verbose=verbose))
