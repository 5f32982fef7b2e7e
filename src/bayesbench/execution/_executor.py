"""Run model calls: sync models on daemon worker threads, async ones on the loop; a global and a
per-model (AIMD-adaptive) concurrency limit; requests- and tokens-per-minute buckets; bounded retries
with jittered exponential backoff that honour ``Retry-After``; a wall-clock deadline per attempt (on
by default, :data:`DEFAULT_TIMEOUT_S`); a response cache and a durable per-call record in the store;
one :class:`CallRecord` per call, folded into running totals (:class:`UsageTally`) rather than kept.

The engine only ever calls :meth:`Executor.call`; everything about *how* a call is made lives
behind it. A call that finishes is committed to the store before ``call`` returns, so a run
killed at any moment loses no answer it has already been told about.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import math
import random
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._validate import positive_int
from ..errors import ConfigError
from ..models._errors import ErrorInfo, classify_with, default_classifier
from ._bridge import StoreBridge
from ._keys import estimate_tokens, make_cache_key, prompt_text, sha256_hex, stable_json
from ._limits import AdaptiveLimit, TokenBucket
from ._threads import DaemonPool
from ._usage import UsageReport, UsageTally

#: The default wall-clock deadline of one attempt of one model call, in seconds. A call that has not
#: returned by then is abandoned (a timeout error, retried per the retry policy).
DEFAULT_TIMEOUT_S = 120.0

#: How many of the most recent :class:`CallRecord` objects an executor keeps in ``records``.
RECENT_RECORDS = 256


def _nonneg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing call is retried.

    ``max_attempts`` counts the first try. Waits grow as ``backoff_base * 2**k`` up to
    ``backoff_max`` seconds, with full jitter when ``jitter`` is true. A provider's
    ``Retry-After`` replaces the backoff (capped at ``max_retry_after`` seconds; a longer
    demand is treated as "not retryable now" and surfaces as the error).
    """

    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    jitter: bool = True
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        positive_int("max_attempts", self.max_attempts)
        _nonneg("backoff_base", self.backoff_base)
        _nonneg("backoff_max", self.backoff_max)
        _nonneg("max_retry_after", self.max_retry_after)

    def wait(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return rng.uniform(0, cap) if self.jitter else cap


@dataclass(slots=True)
class CallRecord:
    """What one model call produced and cost. ``response`` is None exactly when ``error`` is set.

    ``attempts`` is 0 for a cache hit. ``prompt_hash`` and ``cache_key`` are filled when the
    executor has a store (they are what the store records). ``latency_s`` runs from sending the first attempt to the
    final outcome (so it includes retries and their backoff); the time spent waiting for a
    concurrency slot or a rate-limit bucket before that is ``queued_s``. Tokens come from the response's ``input_tokens``/``output_tokens`` when the adapter
    reports them, else they are estimated (``tokens_estimated`` is then true). ``cost_usd`` is
    None when the model is not in the executor's price table, and 0.0 for a cache hit.
    """

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
    prompt_hash: str | None = None
    cache_key: str | None = None
    tokens_estimated: bool = False
    error_status: int | None = None
    rate_limited: int = 0  # how many attempts were refused for rate limits
    queued_s: float = 0.0  # waiting for slots / rate limits before the first attempt was sent

    @property
    def ok(self) -> bool:
        return self.error is None


class CachedCompletion(str):
    """A response served from the cache: the text plus the token metadata of the original call."""

    input_tokens: int | None
    output_tokens: int | None
    ttft_s: float | None
    cached = True

    def __new__(cls, text: str, *, input_tokens: int | None = None, output_tokens: int | None = None,
                ttft_s: float | None = None) -> CachedCompletion:
        obj = super().__new__(cls, text)
        obj.input_tokens, obj.output_tokens, obj.ttft_s = input_tokens, output_tokens, ttft_s
        return obj


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """True for an ``async def`` function or an object whose ``__call__`` is one."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 -- the __call__ itself is inspected, not callability
    return call is not None and inspect.iscoroutinefunction(call)


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(asyncio.TimeoutError())


async def _awaited(aw: Any) -> Any:
    return await aw


def _int_attr(obj: Any, name: str) -> int | None:
    v = getattr(obj, name, None)
    return int(v) if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


class _ModelState:
    def __init__(self, limit: AdaptiveLimit, rpm: TokenBucket | None, tpm: TokenBucket | None) -> None:
        self.limit, self.rpm, self.tpm = limit, rpm, tpm
        self.pause_until = 0.0  # monotonic time before which no attempt starts (Retry-After)


class Executor:
    """Makes model calls politely and records each one.

    Parameters
    ----------
    max_concurrency:
        Calls in flight across all models. Default 8.
    retry:
        A :class:`RetryPolicy`. Default ``RetryPolicy()`` (3 attempts).
    timeout:
        Wall-clock deadline of each attempt in seconds; default :data:`DEFAULT_TIMEOUT_S` (120).
        An attempt still running at its deadline fails with a timeout error (retried per ``retry``)
        however much data a slow server keeps trickling in. An async model is cancelled; a sync
        model keeps running on its daemon thread (threads cannot be killed), its late answer is
        discarded and it never keeps the process from exiting. ``None`` turns the deadline off.
    seed:
        Seeds the backoff jitter. Default 0.
    model_concurrency:
        Calls in flight per model: an int for every model, a ``{model: int}`` dict (models not in
        it get ``max_concurrency``), or None (default, ``max_concurrency``).
    adaptive:
        Adapt each model's concurrency by AIMD on rate-limit errors. Default True.
    requests_per_minute, tokens_per_minute:
        Token-bucket limits per model: a number for every model or a ``{model: number}`` dict.
        Default None (no limit). Tokens are estimated before a call and corrected after it.
    prices:
        ``{model: (usd_per_1M_input_tokens, usd_per_1M_output_tokens)}``. No built-in prices.
    store:
        A :class:`bayesbench.store.Store` for the response cache and per-call records. Default None.
    run_id:
        The store run that call records belong to (settable later as ``executor.run_id``).
    cache:
        Serve and fill the response cache when a store is given. Default True.
    token_counter:
        ``f(text) -> int`` used when an adapter does not report tokens, e.g. a tiktoken encoder's
        ``lambda s: len(enc.encode(s))``. Default None: about 4 characters per token.
    classify_error:
        ``f(exc) -> ErrorInfo``-like. Default: ``bayesbench.models.classify_error`` if present.
    inline:
        Call a sync function inline on the event loop once it has proven instant (its last 32 calls
        on threads each returned in under 100 µs); its first slower inline call sends it back to
        the threads for good. Default True. An inline call cannot be cut off at its deadline, so
        pass False for a function that can be instant for a long time and then block.
    """

    def __init__(
        self,
        *,
        max_concurrency: int = 8,
        retry: RetryPolicy | None = None,
        timeout: float | None = DEFAULT_TIMEOUT_S,
        seed: int = 0,
        model_concurrency: int | Mapping[str, int] | None = None,
        adaptive: bool = True,
        requests_per_minute: float | Mapping[str, float] | None = None,
        tokens_per_minute: float | Mapping[str, float] | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
        store: Any = None,
        run_id: str | None = None,
        cache: bool = True,
        token_counter: Callable[[str], int] | None = None,
        classify_error: Callable[[BaseException], Any] | None = None,
        inline: bool = True,
    ) -> None:
        self.max_concurrency = positive_int("max_concurrency", max_concurrency)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigError(f"`retry` must be a RetryPolicy or None, got {type(retry).__name__}")
        self.retry = retry or RetryPolicy()
        if timeout is not None and (_nonneg("timeout", timeout) == 0):
            raise ConfigError(f"`timeout` must be a number > 0 or None, got {timeout!r}")
        self.timeout = None if timeout is None else float(timeout)
        self._rng = random.Random(seed)
        self.model_concurrency = self._per_model("model_concurrency", model_concurrency, integer=True)
        self.adaptive = bool(adaptive)
        self.requests_per_minute = self._per_model("requests_per_minute", requests_per_minute)
        self.tokens_per_minute = self._per_model("tokens_per_minute", tokens_per_minute)
        self.prices = self._check_prices(prices)
        if store is not None and not all(hasattr(store, m) for m in ("write_batch", "get_cached")):
            raise ConfigError(f"`store` must be a bayesbench.store.Store or None, got {type(store).__name__}")
        self.store = store
        self.run_id = run_id
        self.cache = bool(cache)
        if token_counter is not None and not callable(token_counter):
            raise ConfigError(f"`token_counter` must be a function str -> int or None, got {token_counter!r}")
        self.token_counter = token_counter
        self._classifier = classify_error or default_classifier()
        self.inline = bool(inline)
        self._bridge = StoreBridge(store) if store is not None else None
        self._semaphore: asyncio.Semaphore | None = None
        self._pool: DaemonPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._models: dict[str, _ModelState] = {}
        self._t_first: float | None = None
        self._t_last: float | None = None
        self._warned_store = False
        self._is_async: dict[Any, bool] = {}
        self.usage = UsageTally()
        #: The most recent calls (at most :data:`RECENT_RECORDS`); totals are in ``usage``, every
        #: record is in the store when one is given.
        self.records: collections.deque[CallRecord] = collections.deque(maxlen=RECENT_RECORDS)

    # ------------------------------------------------------------------ configuration helpers
    @staticmethod
    def _per_model(name: str, value: Any, *, integer: bool = False) -> dict[str, float] | float | None:
        def check(n: str, v: Any) -> float:
            if integer:
                return positive_int(n, v)  # type: ignore[return-value]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ConfigError(f"`{n}` must be a number > 0, got {v!r}")
            return float(v)

        if value is None:
            return None
        if isinstance(value, Mapping):
            return {str(k): check(f"{name}[{k!r}]", v) for k, v in value.items()}
        return check(name, value)

    @staticmethod
    def _check_prices(prices: Any) -> dict[str, tuple[float, float]]:
        if prices is None:
            return {}
        if not isinstance(prices, Mapping):
            raise ConfigError(
                "`prices` must be a dict {model: (usd_per_1M_input, usd_per_1M_output)}, "
                f"got {type(prices).__name__}"
            )
        out = {}
        for m, p in prices.items():
            if not (isinstance(p, (tuple, list)) and len(p) == 2):
                raise ConfigError(
                    f"`prices[{m!r}]` must be a pair (usd_per_1M_input, usd_per_1M_output), got {p!r}"
                )
            out[str(m)] = (_nonneg(f"prices[{m!r}][0]", p[0]), _nonneg(f"prices[{m!r}][1]", p[1]))
        return out

    @staticmethod
    def _lookup(value: dict[str, float] | float | None, model: str) -> float | None:
        return value.get(model) if isinstance(value, dict) else value

    def _state(self, model: str) -> _ModelState:
        st = self._models.get(model)
        if st is None:
            conc = self._lookup(self.model_concurrency, model)  # type: ignore[arg-type]
            rpm = self._lookup(self.requests_per_minute, model)
            tpm = self._lookup(self.tokens_per_minute, model)
            st = _ModelState(
                AdaptiveLimit(int(conc) if conc else self.max_concurrency, adaptive=self.adaptive),
                TokenBucket(rpm) if rpm else None,
                TokenBucket(tpm) if tpm else None,
            )
            self._models[model] = st
        return st

    def concurrency_limit(self, model: str) -> float:
        """The current (possibly backed-off) concurrency limit of ``model``."""
        return self._state(model).limit.limit

    def _ensure(self) -> tuple[asyncio.Semaphore, DaemonPool]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # asyncio primitives belong to one loop; a new asyncio.run() gets fresh ones, while
            # the learned limits (AIMD levels, bucket levels) carry over.
            self._loop = loop
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
            for st in self._models.values():
                st.limit.reset_loop()
                for b in (st.rpm, st.tpm):
                    if b is not None:
                        b.reset_loop()
        if self._pool is None:
            self._pool = DaemonPool("bayesbench")
        assert self._semaphore is not None
        return self._semaphore, self._pool

    # ------------------------------------------------------------------ the call
    def _async(self, fn: Callable[..., Any]) -> bool:
        try:
            known = self._is_async.get(fn)
        except TypeError:  # an unhashable callable object
            return is_async_callable(fn)
        if known is None:
            known = self._is_async[fn] = is_async_callable(fn)
        return known

    async def _invoke_once(self, fn: Callable[..., Any], args: tuple[Any, ...], pool: DaemonPool) -> Any:
        """One attempt, bounded by the deadline ``self.timeout`` (wall clock, from the attempt's start)."""
        timeout = self.timeout
        if self._async(fn):
            coro = fn(*args)
            return await (asyncio.wait_for(coro, timeout) if timeout else coro)
        if self.inline and pool.is_instant(fn):  # proven instant since it queued: no thread hand-off
            result = pool.call_inline(fn, args)
            if inspect.isawaitable(result):  # a sync wrapper returning coroutines: not instant
                pool.demote(fn)
                result = await (asyncio.wait_for(_awaited(result), timeout) if timeout else result)
            return result
        fut = pool.submit(fn, args)
        if not timeout:
            result = await fut
        else:
            deadline = time.monotonic() + timeout
            handle = fut.get_loop().call_later(timeout, _expire, fut)
            try:
                result = await fut
            finally:
                handle.cancel()
            if inspect.isawaitable(result):  # a sync wrapper that returned a coroutine: same deadline
                return await asyncio.wait_for(_awaited(result), max(1e-3, deadline - time.monotonic()))
            return result
        if inspect.isawaitable(result):
            result = await result
        return result

    def _count(self, text: str) -> int:
        if self.token_counter is not None:
            try:
                return int(self.token_counter(text))
            except Exception:  # a broken counter must not lose a paid-for answer
                pass
        return estimate_tokens(text)

    def _cost(self, model: str, tin: int | None, tout: int | None) -> float | None:
        price = self.prices.get(model)
        if price is None or tin is None or tout is None:
            return None
        return (tin * price[0] + tout * price[1]) / 1_000_000

    def _finish(self, record: CallRecord, start: float, first_sent: float | None = None) -> None:
        end = time.perf_counter()
        if first_sent is None:
            record.latency_s = end - start
        else:
            record.queued_s = first_sent - start
            record.latency_s = end - first_sent
        self._t_first = start if self._t_first is None else min(self._t_first, start)
        self._t_last = end if self._t_last is None else max(self._t_last, end)

    async def _persist(self, record: CallRecord, cached: tuple[tuple[str, str, dict[str, Any]], ...] = ()) -> None:
        if self._bridge is None:
            return
        try:
            await self._bridge.write(calls=((self.run_id, record),), cached=cached)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep the answer in memory; say loudly that it is not saved
            record.extra["store_error"] = str(exc)
            self._warn_store(exc)

    def _warn_store(self, exc: BaseException) -> None:
        if not self._warned_store:  # once per executor: a broken store would otherwise flood the log
            self._warned_store = True
            warnings.warn(f"bayesbench could not use the store: {exc}", RuntimeWarning, stacklevel=4)

    async def call(
        self,
        model: str,
        fn: Callable[..., Any],
        *args: Any,
        problem_id: str = "",
        params: Mapping[str, Any] | None = None,
    ) -> CallRecord:
        """Call ``fn(*args)`` politely; never raises for a model failure, returns the record.

        ``params`` are the sampling parameters that are not already part of ``fn``'s ``cache_key``
        (e.g. ``{"temperature": 0.7, "sample": 3}`` to draw distinct samples of one prompt); they
        only enter the cache key. After ``retry.max_attempts`` failures (or one non-retryable
        failure) the record carries ``error`` and ``response`` is None.
        """
        semaphore, pool = self._ensure()
        record = CallRecord(model=model, problem_id=str(problem_id))
        start = time.perf_counter()
        params_json = None
        if params is not None:
            params_json = stable_json(dict(params))
            if params_json is None:
                raise ConfigError(f"`params` must be JSON-serialisable (plain numbers, strings, lists, dicts), got {params!r}")
        key = None
        # The prompt's canonical JSON (for the record's hash and the cache key) only matters to a store.
        args_json = stable_json(list(args)) if self._bridge is not None else None
        if args_json is not None:
            record.prompt_hash = sha256_hex(args_json)[:32]
        if self._bridge is not None and self.cache and args_json is not None:
            key = make_cache_key(model, fn, args_json, params_json or "{}")
            record.cache_key = key
            try:
                hit = await self._bridge.get(key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an unreadable cache is a miss, not a failed call
                hit = None
                record.extra["store_error"] = str(exc)
                self._warn_store(exc)
            if hit is not None:
                self._serve_cached(record, *hit)
                self._finish(record, start)
                # A hit cost nothing, so its record is written in the background (flushed by
                # close()): losing it to a kill loses no paid work, and re-runs stay fast.
                self._bridge.write_nowait(calls=((self.run_id, record),))
                self._keep(record)
                return record

        state = self._state(model)
        est_in = self._count(prompt_text(args)) if state.tpm is not None else 0
        first_sent: float | None = None
        for attempt in range(1, self.retry.max_attempts + 1):
            record.attempts = attempt
            info: ErrorInfo | None = None
            if self._inline_now(fn, state, semaphore, pool):
                # A proven-instant sync function: called here, without yielding to the loop, so it
                # needs no slot (nothing else runs meanwhile) and no thread hand-off.
                sent_at = time.monotonic()
                if first_sent is None:
                    first_sent = time.perf_counter()
                try:
                    response = pool.call_inline(fn, args)
                    if inspect.isawaitable(response):  # a sync wrapper returning coroutines: not instant
                        pool.demote(fn)
                        response = await (asyncio.wait_for(_awaited(response), self.timeout) if self.timeout else response)
                    if response is None:
                        raise ValueError(f"model function {getattr(fn, '__name__', fn)!r} returned None, not an answer")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    info = self._failed(record, exc)
                else:
                    state.limit.on_success()
                    record.response = response
                    record.error = record.error_type = record.error_status = None  # earlier attempts failed
                    await self._complete(record, args, state, est_in, key, start, first_sent)
                    self._keep(record)
                    return record
            else:
                await state.limit.acquire()
                try:
                    # The model's own waits come before the global slot, so one throttled model
                    # never holds slots that other models could use.
                    while (pause := state.pause_until - time.monotonic()) > 0:  # a Retry-After
                        await asyncio.sleep(pause)
                    if state.rpm is not None:
                        await state.rpm.acquire(1)
                    if state.tpm is not None:
                        await state.tpm.acquire(max(1, est_in))
                    async with semaphore:
                        sent_at = time.monotonic()
                        if first_sent is None:
                            first_sent = time.perf_counter()
                        try:
                            response = await self._invoke_once(fn, args, pool)
                            if response is None:
                                raise ValueError(f"model function {getattr(fn, '__name__', fn)!r} returned None, not an answer")
                        except asyncio.CancelledError:
                            raise
                        except Exception as exc:
                            info = self._failed(record, exc)
                        else:
                            record.response = response
                            record.error = record.error_type = record.error_status = None
                            state.limit.on_success()
                            # Commit while still holding the slots: a kill can then lose at most
                            # `max_concurrency` answered-but-unrecorded calls, never a backlog.
                            await self._complete(record, args, state, est_in, key, start, first_sent)
                            self._keep(record)
                            return record
                finally:
                    state.limit.release()
            assert info is not None  # success returned above
            if info.rate_limited:
                record.rate_limited += 1
                state.limit.on_rate_limited(sent_at)
            if not info.retryable or attempt == self.retry.max_attempts:
                break
            if info.retry_after_s is not None:
                if info.retry_after_s > self.retry.max_retry_after:
                    record.error += f" (provider asked to retry after {info.retry_after_s:g} s, more than max_retry_after)"
                    break
                wait = info.retry_after_s
                state.pause_until = max(state.pause_until, time.monotonic() + wait)
            else:
                wait = self.retry.wait(attempt, self._rng)
            await asyncio.sleep(wait)

        self._finish(record, start, first_sent)  # every attempt failed: record the error (never cached)
        await self._persist(record)
        self._keep(record)
        return record

    def _inline_now(self, fn: Callable[..., Any], state: _ModelState, semaphore: asyncio.Semaphore,
                    pool: DaemonPool) -> bool:
        """May this attempt run inline: a proven-instant sync function, no store to commit to (its
        group commit would yield), and nothing it would have to wait for (no rate limits, free
        slots, nobody queued ahead of it)."""
        return (
            self.inline
            and self._bridge is None
            and state.rpm is None
            and state.tpm is None
            and not self._async(fn)
            and pool.is_instant(fn)
            and not semaphore.locked()
            and state.limit.in_flight < state.limit.capacity
            and not state.limit.waiting
            and state.pause_until <= time.monotonic()
        )

    def _failed(self, record: CallRecord, exc: BaseException) -> ErrorInfo:
        """Write a failed attempt into ``record``; how to treat it (retry? rate limit?)."""
        if isinstance(exc, asyncio.TimeoutError) and not str(exc):
            record.error = f"timed out after {self.timeout:g} s"
        else:
            record.error = str(exc) or type(exc).__name__
        record.error_type = type(exc).__name__
        info = classify_with(self._classifier, exc)
        record.error_status = info.status
        return info

    def _keep(self, record: CallRecord) -> None:
        """Fold a finished call into the running totals; keep only the most recent records."""
        self.usage.add(record)
        self.records.append(record)

    async def _complete(
        self,
        record: CallRecord,
        args: tuple[Any, ...],
        state: _ModelState,
        est_in: int,
        key: str | None,
        start: float,
        first_sent: float | None,
    ) -> None:
        """Account tokens and cost of a successful call, then commit it (and its cache entry)."""
        self._account(record, args, state, est_in)
        cached_rows: tuple[tuple[str, str, dict[str, Any]], ...] = ()
        if key is not None:
            row = self._cache_row(record)
            if row is not None:
                cached_rows = ((key, row[0], row[1]),)
        self._finish(record, start, first_sent)
        await self._persist(record, cached_rows)

    def _account(self, record: CallRecord, args: tuple[Any, ...], state: _ModelState, est_in: int) -> None:
        resp = record.response
        tin, tout = _int_attr(resp, "input_tokens"), _int_attr(resp, "output_tokens")
        # Tokens are estimated only for text answers: a function returning numbers or records has
        # no tokens to count (and no price to apply).
        if isinstance(resp, str):
            if tin is None:
                tin = self._count(prompt_text(args))
                record.tokens_estimated = True
            if tout is None:
                tout = self._count(resp)
                record.tokens_estimated = True
        record.input_tokens, record.output_tokens = tin, tout
        ttft = getattr(resp, "ttft_s", None)
        if isinstance(ttft, (int, float)) and not isinstance(ttft, bool):
            record.ttft_s = float(ttft)
        record.cost_usd = self._cost(record.model, tin, tout)
        if state.tpm is not None:
            state.tpm.charge((tin or 0) + (tout or 0) - max(1, est_in))

    def _cache_row(self, record: CallRecord) -> tuple[str, dict[str, Any]] | None:
        resp = record.response
        meta: dict[str, Any] = {
            "model": record.model,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "tokens_estimated": record.tokens_estimated,
            "ttft_s": record.ttft_s,
        }
        if isinstance(resp, str):
            meta["kind"] = "text"
            return str(resp), meta
        text = stable_json(resp)
        if text is None:  # an answer we cannot store faithfully is simply not cached
            record.extra["cache"] = f"not cached: {type(resp).__name__} is not JSON-serialisable"
            return None
        meta["kind"] = "json"
        return text, meta

    def _serve_cached(self, record: CallRecord, text: str, meta: dict[str, Any]) -> None:
        record.cached = True
        record.attempts = 0
        record.cost_usd = 0.0
        record.input_tokens = meta.get("input_tokens")
        record.output_tokens = meta.get("output_tokens")
        record.tokens_estimated = bool(meta.get("tokens_estimated", False))
        record.ttft_s = meta.get("ttft_s")
        if meta.get("kind") == "json":
            record.response = json.loads(text)
        else:
            try:  # the adapters' own Completion when available, so a hit looks like a live answer
                from ..models import Completion as _Completion
            except ImportError:  # pragma: no cover - models/ always ships with the package
                _Completion = CachedCompletion  # type: ignore[assignment,misc]
            record.response = _Completion(
                text, input_tokens=record.input_tokens, output_tokens=record.output_tokens, ttft_s=record.ttft_s
            )

    # ------------------------------------------------------------------ reporting and lifecycle
    @property
    def wall_time_s(self) -> float | None:
        """From the start of the first call to the end of the last one."""
        if self._t_first is None or self._t_last is None:
            return None
        return self._t_last - self._t_first

    @property
    def calls_made(self) -> int:
        """Calls finished so far (answered, failed or served from the cache)."""
        return self.usage.calls

    @property
    def spent_usd(self) -> float:
        """Dollars the live (non-cached) calls so far cost, per the price table."""
        return self.usage.cost_usd

    def usage_summary(self) -> UsageReport:
        """Per-model calls, errors, retries, latency percentiles, throughput, tokens and cost."""
        return self.usage.report(self.wall_time_s)

    def close(self) -> None:
        """Stop the store thread (queued store writes are finished first) and the idle workers."""
        if self._bridge is not None:
            self._bridge.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Executor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
