"""Run settings shared by every front door, validated once at the boundary."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Any, Callable

from .._validate import finite_float, in_open_interval, one_of, positive_int
from ..errors import ConfigError
from ..execution import RetryPolicy

RULES = ("anytime", "full_benchmark", "posterior", "fixed")
RANK_RULES = ("anytime", "full_benchmark", "fixed")
ON_ERROR = ("raise", "zero")
GOALS = ("rank", "top1")


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides how a run asks, stops and reports. See docs/engine.md."""

    confidence: float = 0.95
    skip_threshold: float = 0.85
    min_samples: int = 3
    posterior_factory: Callable[[], Any] | None = None
    rule: str = "anytime"
    equivalence_margin: float | None = None
    seed: int | None = None
    batch_size: int = 8
    max_concurrency: int = 8
    max_problems: int | None = None
    max_cost_usd: float | None = None
    on_error: str = "raise"
    retry: RetryPolicy | None = None
    timeout: float | None = None
    score_range: tuple[float, float] = (0.0, 1.0)
    goal: str = "rank"

    def __post_init__(self) -> None:
        in_open_interval("confidence", self.confidence, 0.5, 1.0)
        in_open_interval("skip_threshold", self.skip_threshold, 0.5, 1.0)
        positive_int("min_samples", self.min_samples)
        positive_int("batch_size", self.batch_size)
        positive_int("max_concurrency", self.max_concurrency)
        positive_int("max_problems", self.max_problems, allow_none=True)
        if self.max_cost_usd is not None and finite_float("max_cost_usd", self.max_cost_usd) <= 0:
            raise ConfigError(f"`max_cost_usd` must be a positive number of dollars or None, got {self.max_cost_usd!r}")
        one_of("rule", self.rule, RULES)
        one_of("on_error", self.on_error, ON_ERROR)
        one_of("goal", self.goal, GOALS)
        if self.equivalence_margin is not None:
            in_open_interval("equivalence_margin", self.equivalence_margin, 0.0, 1.0)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0):
            raise ConfigError(f"`seed` must be a non-negative integer or None, got {self.seed!r}")
        if self.timeout is not None and finite_float("timeout", self.timeout) <= 0:
            raise ConfigError(f"`timeout` must be a positive number of seconds or None, got {self.timeout!r}")
        if self.posterior_factory is not None and not callable(self.posterior_factory):
            raise ConfigError(
                "`posterior_factory` must be a callable that returns a new posterior, e.g. BetaPosterior or "
                f"lambda: NormalPosterior(mu_0=0.3), got {self.posterior_factory!r}"
            )
        lo_hi = self.score_range
        if (
            not isinstance(lo_hi, (tuple, list))
            or len(lo_hi) != 2
            or finite_float("score_range[0]", lo_hi[0]) >= finite_float("score_range[1]", lo_hi[1])
        ):
            raise ConfigError(f"`score_range` must be a pair (low, high) with low < high, got {lo_hi!r}")

    @property
    def alpha(self) -> float:
        return 1.0 - self.confidence

    def with_seed(self) -> "RunSettings":
        """A copy whose seed is fixed (drawn now and recorded if the user gave none)."""
        if self.seed is not None:
            return self
        return replace(self, seed=secrets.randbits(31))

    def replace(self, **changes: Any) -> "RunSettings":
        return replace(self, **changes)


def engine_config(settings: RunSettings, bank: int) -> Any:
    """The decision engine's configuration for a run over a bank of ``bank`` problems."""
    from ..stats import EngineConfig

    bank_mode = settings.rule == "full_benchmark"
    return EngineConfig(
        alpha=settings.alpha,
        delta=settings.equivalence_margin,
        target="full_benchmark" if bank_mode else "generalization",
        bank_size=bank if bank_mode else None,
        score_range=(float(settings.score_range[0]), float(settings.score_range[1])),
        # skip_threshold keeps its meaning "stop non-discriminating tasks": the equivalence stop's level
        equivalence_alpha=1.0 - settings.skip_threshold,
    )


def check_ranking(settings: RunSettings, n_models: int) -> None:
    """Ranking needs two models and one of the ranking rules."""
    if n_models < 2:
        raise ConfigError(f"ranking needs at least 2 models, got {n_models}; add them with ranker.add_model(name, fn)")
    if settings.rule not in RANK_RULES:
        raise ConfigError(
            f"`rule` for ranking must be one of {', '.join(repr(r) for r in RANK_RULES)}, got {settings.rule!r} "
            "(the original posterior rule is available for two-model comparisons only)"
        )
