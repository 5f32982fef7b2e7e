"""The run layer: the sequential loop, racing for rankings, and the result objects."""

from ._loop import run_sync, shuffled_order
from ._pair import compare_async, run_task_async
from ._rank import rank_async
from ._results import BenchmarkReport, RankedModel, RankingResult, TaskResult
from ._settings import RunOptions, RunSettings

__all__ = [
    "BenchmarkReport",
    "RankedModel",
    "RankingResult",
    "RunOptions",
    "RunSettings",
    "TaskResult",
    "compare_async",
    "rank_async",
    "run_sync",
    "run_task_async",
    "shuffled_order",
]
