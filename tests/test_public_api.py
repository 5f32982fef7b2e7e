"""The public surface: what `__all__` promises is importable, and nothing private leaks into it."""

from __future__ import annotations

import importlib

import pytest

import bayesbench

EXPECTED_TOP_LEVEL = {
    "benchmark", "suite", "BayesianBenchmark", "BayesianRanker", "TaskResult", "BenchmarkReport", "RankingResult",
    "BetaPosterior", "NormalPosterior", "Posterior", "DirichletPosterior", "GammaPosterior",
    "compare", "rank", "prob_a_beats_b", "is_non_discriminating", "BayesbenchError", "ConfigError", "DatasetError",
    "ModelError", "ScoringError", "StoreError", "MissingDependencyError", "__version__",
}


def test_top_level_all_contains_the_documented_api():
    assert EXPECTED_TOP_LEVEL <= set(bayesbench.__all__)


@pytest.mark.parametrize(
    "module",
    ["bayesbench", "bayesbench.posteriors", "bayesbench.stats", "bayesbench.engine", "bayesbench.execution",
     "bayesbench.errors"],
)
def test_every_name_in_all_is_importable_and_public(module):
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"
        assert not name.startswith("_") or name == "__version__"


def test_error_tree():
    for name in ("ConfigError", "DatasetError", "ModelError", "ScoringError", "StoreError", "MissingDependencyError"):
        assert issubclass(getattr(bayesbench, name), bayesbench.BayesbenchError)
