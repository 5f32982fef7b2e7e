"""Execution: concurrency, rate limits, retries, timeouts, the response cache and per-call records.

See docs/execution.md. The engine calls only :meth:`Executor.call`.
"""

from ._executor import CallRecord, Executor, RetryPolicy, is_async_callable
from ._keys import estimate_tokens
from ._usage import ModelUsage, Savings, UsageReport

__all__ = [
    "CallRecord",
    "Executor",
    "ModelUsage",
    "RetryPolicy",
    "Savings",
    "UsageReport",
    "estimate_tokens",
    "is_async_callable",
]
