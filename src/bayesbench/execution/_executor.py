"""Run model calls: sync models in a thread pool, async ones on the loop, bounded concurrency,
bounded retries with jittered exponential backoff, per-call timeouts, and one record per call.

The engine only ever calls :meth:`Executor.call`; everything about *how* a call is made
(rate limits, caching, recording to the store) lives behind it.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from .._validate import positive_int


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing call is retried.

    ``max_attempts`` counts the first try. Waits grow as ``backoff_base * 2**k`` up to
    ``backoff_max`` seconds, with full jitter when ``jitter`` is true.
    """

    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    jitter: bool = True

    def wait(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return rng.uniform(0, cap) if self.jitter else cap


@dataclass
class CallRecord:
    """What one model call produced and cost. ``response`` is None exactly when ``error`` is set."""

    model: str
    problem_id: str
    response: Any = None
    error: str | None = None
    error_type: str | None = None
    latency_s: float = 0.0
    attempts: int = 0
    cached: bool = False
    ttft_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def is_async_callable(fn: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)
    return call is not None and inspect.iscoroutinefunction(call)


class Executor:
    """Makes model calls with at most ``max_concurrency`` in flight.

    Sync callables run in a thread pool so they never block the event loop.
    """

    def __init__(
        self,
        *,
        max_concurrency: int = 8,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        seed: int = 0,
    ) -> None:
        self.max_concurrency = positive_int("max_concurrency", max_concurrency)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._rng = random.Random(seed)
        self._semaphore: asyncio.Semaphore | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.records: list[CallRecord] = []

    def _ensure(self) -> tuple[asyncio.Semaphore, ThreadPoolExecutor]:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="bayesbench")
        return self._semaphore, self._pool

    async def _invoke_once(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        _, pool = self._ensure()
        if is_async_callable(fn):
            coro = fn(*args)
        else:
            loop = asyncio.get_running_loop()
            coro = loop.run_in_executor(pool, lambda: fn(*args))
        result = await asyncio.wait_for(coro, self.timeout) if self.timeout else await coro
        if inspect.isawaitable(result):  # a sync wrapper that returned a coroutine
            result = await result
        return result

    async def call(self, model: str, fn: Callable[..., Any], *args: Any, problem_id: str = "") -> CallRecord:
        """Call ``fn(*args)`` with retries; never raises for a model failure, returns the record."""
        semaphore, _ = self._ensure()
        record = CallRecord(model=model, problem_id=problem_id)
        async with semaphore:
            start = time.perf_counter()
            for attempt in range(1, self.retry.max_attempts + 1):
                record.attempts = attempt
                try:
                    record.response = await self._invoke_once(fn, args)
                    record.error = record.error_type = None
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a model failure of any kind is retried, then reported
                    record.error = str(exc) or type(exc).__name__
                    record.error_type = type(exc).__name__
                    if attempt < self.retry.max_attempts:
                        await asyncio.sleep(self.retry.wait(attempt, self._rng))
            record.latency_s = time.perf_counter() - start
        self.records.append(record)
        return record

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
