"""Execution: concurrency, rate limits, retries, timeouts, the response cache and per-call records.

See docs/execution.md. The engine calls only :meth:`Executor.call`.
"""

from ._executor import DEFAULT_TIMEOUT_S, CallRecord, Executor, RetryPolicy, is_async_callable
from ._keys import estimate_tokens
from ._usage import LatencySketch, ModelUsage, Savings, UsageReport, UsageTally

#: Names imported only when first used, so ``import bayesbench`` does not pay for the Ray front end.
_LAZY = {"RayActorModel": "._ray", "RayExecutor": "._ray", "ray_actor_model": "._ray"}


def __getattr__(name: str) -> object:
    """Import a lazily exported name (the Ray executor) on first use."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
