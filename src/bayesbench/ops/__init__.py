"""Operations: what a run used and cost, how fast each model answered, and how deployments compare.

See docs/operations.md. :class:`ResourceMonitor` samples CPU, memory and GPU use in a background thread
(the engine runs one around every run unless ``monitor_resources=False``); :class:`CostModel` prices a
local model's hardware by the hour; :func:`latency_report` gives per-model latency percentiles,
time to first token, tokens/s and requests/s (over the run and in windows); :func:`loadtest` sweeps
concurrency levels against a server and finds where it saturates; :func:`compare_deployments` puts two
or more deployments side by side on accuracy (with the engine's verdict), latency, throughput, cost and
resources.
"""

from ._cost import CostModel, CostReport, ModelCost, cost_report
from ._deployment import DeploymentReport, compare_deployments
from ._latency import LatencyReport, ModelLatency, latency_report
from ._loadtest import LoadLevel, LoadTestReport, loadtest, loadtest_async
from ._monitor import ResourceMonitor, ResourceReport

__all__ = [
    "CostModel",
    "CostReport",
    "DeploymentReport",
    "LatencyReport",
    "LoadLevel",
    "LoadTestReport",
    "ModelCost",
    "ModelLatency",
    "ResourceMonitor",
    "ResourceReport",
    "compare_deployments",
    "cost_report",
    "latency_report",
    "loadtest",
    "loadtest_async",
]
