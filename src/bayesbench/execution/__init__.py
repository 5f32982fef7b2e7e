"""Execution: concurrency, rate limits, retries, timeouts, the response cache and per-call records.

See docs/execution.md. The engine calls only :meth:`Executor.call`.
"""

from ._executor import DEFAULT_TIMEOUT_S, CallRecord, Executor, RetryPolicy, is_async_callable
from ._keys import estimate_tokens
from ._ray import RayActorModel, RayExecutor, ray_actor_model
from ._usage import LatencySketch, ModelUsage, Savings, UsageReport, UsageTally

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "CallRecord",
    "Executor",
    "LatencySketch",
    "ModelUsage",
    "RayActorModel",
    "RayExecutor",
    "RetryPolicy",
    "Savings",
    "UsageReport",
    "UsageTally",
    "estimate_tokens",
    "is_async_callable",
    "ray_actor_model",
]
