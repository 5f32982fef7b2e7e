"""``from bayesbench.benchmarks.compare import compare_models`` (DeepEval's import path)."""

from ._compare import HeadToHead, compare_models

__all__ = ["HeadToHead", "compare_models"]
