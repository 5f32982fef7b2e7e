"""Pictures of runs: stopping paths, rankings, latency, cost vs accuracy, resource use.

Needs the ``plots`` extra (``pip install "bayesbench[plots]"``, matplotlib); matplotlib is imported only when a
figure is drawn. Every function returns a ``matplotlib.figure.Figure`` drawn on the Agg canvas (no pyplot, no
window, your backend untouched) and saves it when given ``path=`` (``.png`` or ``.svg``, by extension).
The result objects draw themselves: ``result.plot()``, ``report.plot()``, ``ranking.plot()``.
"""

from ._ops import cost_accuracy, frontier, latency, resources
from ._path import benchmark_report, stopping_path
from ._ranking import ranking, task_scores
from ._stored import call_latencies, stored_run

__all__ = [
    "benchmark_report",
    "call_latencies",
    "cost_accuracy",
    "frontier",
    "latency",
    "ranking",
    "resources",
    "stopping_path",
    "stored_run",
    "task_scores",
]
