"""bayesbench: compare and rank LLMs, stopping as soon as the evidence is enough.

Decisions come from anytime-valid paired tests (betting e-processes), so a declared winner holds
at the stated error rate however early the run stops. See docs/ for one page per concept.
"""

from ._comparison import BayesianBenchmark, BenchmarkTask, benchmark, suite
from ._oneliners import compare, is_non_discriminating, prob_a_beats_b, rank
from ._plan import plan
from ._ranker import BayesianRanker
from ._version import __version__
from .engine import BenchmarkReport, RankedModel, RankingResult, TaskResult
from .errors import (
    BayesbenchError,
    ConfigError,
    DatasetError,
    MissingDependencyError,
    ModelError,
    ScoringError,
    StoreError,
    UnknownSettingError,
)
from .execution import RetryPolicy
from .posteriors import BetaPosterior, DirichletPosterior, GammaPosterior, NormalPosterior, Posterior

__all__ = [
    "__version__",
    "BayesianBenchmark",
    "BayesianRanker",
    "BenchmarkReport",
    "BenchmarkTask",
    "BetaPosterior",
    "DirichletPosterior",
    "GammaPosterior",
    "NormalPosterior",
    "Posterior",
    "RankedModel",
    "RankingResult",
    "RetryPolicy",
    "TaskResult",
    "benchmark",
    "compare",
    "is_non_discriminating",
    "plan",
    "prob_a_beats_b",
    "rank",
    "suite",
    "BayesbenchError",
    "ConfigError",
    "DatasetError",
    "MissingDependencyError",
    "ModelError",
    "ScoringError",
    "StoreError",
    "UnknownSettingError",
]
