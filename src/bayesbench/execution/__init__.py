"""Execution: concurrency, retries, timeouts and per-call records for model calls."""

from ._executor import CallRecord, Executor, RetryPolicy, is_async_callable

__all__ = ["CallRecord", "Executor", "RetryPolicy", "is_async_callable"]
