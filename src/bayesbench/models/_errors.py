"""Error classification: one place that says whether a failed model call is worth retrying.

Adapters never retry (their SDKs run with ``max_retries=0``); the execution layer asks
:func:`classify_error` and decides. It understands the openai and anthropic SDK exceptions,
httpx / requests style errors (anything with ``.response.status_code``), timeouts, connection
errors and :class:`ModelCallError`, which adapters and user functions may raise themselves.
SDKs are never imported here: recognition is by attributes and class names, so classification
works whether or not an SDK is installed.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from ..errors import BayesbenchError, ModelError

__all__ = ["ErrorInfo", "ModelCallError", "classify_error", "RETRYABLE_STATUSES", "PROGRAMMING_ERRORS"]

#: HTTP statuses worth retrying: timeouts, conflicts, too-early, rate limits, server errors and
#: Anthropic's 529 "overloaded".
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
#: Exceptions that mean a bug in the calling code; retrying would only waste time.
PROGRAMMING_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    AttributeError,
    NameError,
    NotImplementedError,
    ImportError,
    AssertionError,
    KeyError,
    IndexError,
    SyntaxError,
)
# Statuses that are back-pressure: the caller should slow down, not only wait.
_RATE_LIMIT_STATUSES = frozenset({429, 529})


@dataclass(frozen=True)
class ErrorInfo:
    """What the execution layer needs to know about a failed call.

    * ``retryable``: trying the same call again may succeed.
    * ``rate_limited``: the provider asked us to slow down (429, Anthropic 529): shrink concurrency.
    * ``retry_after_s``: seconds the provider asked us to wait (``Retry-After`` / ``retry-after-ms``).
    * ``status``: the HTTP status when there was a response.
    * ``kind``: a short label for logs: ``rate_limit``, ``server``, ``timeout``, ``connection``,
      ``malformed``, ``client``, ``input`` (bad problem/config), ``bug`` (a programming error in
      the model function), ``unknown``.
    """

    retryable: bool
    rate_limited: bool = False
    retry_after_s: float | None = None
    status: int | None = None
    kind: str = "unknown"


class ModelCallError(ModelError):
    """A model call failed; adapters and user model functions may raise it to say how.

    ``ModelCallError("quota exhausted", status=429, retry_after_s=2.0)`` is classified as
    retryable and rate limited with a 2 s wait. ``retryable`` defaults from ``status``
    (see :data:`RETRYABLE_STATUSES`), and to ``True`` when there is no status.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s
        self.retryable = (status is None or status in RETRYABLE_STATUSES) if retryable is None else retryable


def _parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI/Anthropic) or ``Retry-After`` (RFC 9110)."""
    if headers is None:
        return None
    try:
        get = headers.get
    except AttributeError:
        return None
    ms = _header(get, "retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
            if math.isfinite(value) and value >= 0:
                return value
        except ValueError:
            pass
    raw = _header(get, "retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
        return value if math.isfinite(value) and value >= 0 else None
    except ValueError:
        pass
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _header(get: Any, name: str) -> str | None:
    # httpx/requests headers are case-insensitive; plain dicts are not.
    for key in (name, name.title(), name.upper()):
        value = get(key)
        if value is not None:
            return str(value)
    return None


def _status_of(exc: BaseException) -> tuple[int | None, Any]:
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None)
    if status is None and response is not None:
        status = getattr(response, "status_code", None)
    if status is None:
        status = getattr(exc, "status", None)
    if isinstance(status, bool) or not isinstance(status, int):
        status = None
    headers = getattr(response, "headers", None) if response is not None else getattr(exc, "headers", None)
    return status, headers


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _classify_one(exc: BaseException) -> ErrorInfo | None:
    if isinstance(exc, ModelCallError):
        status = exc.status
        return ErrorInfo(
            retryable=exc.retryable,
            rate_limited=status in _RATE_LIMIT_STATUSES,
            retry_after_s=exc.retry_after_s,
            status=status,
            kind="rate_limit" if status in _RATE_LIMIT_STATUSES else ("server" if status and status >= 500 else "unknown"),
        )
    if isinstance(exc, BayesbenchError):
        # Our own configuration / dataset errors: retrying the same input cannot help.
        return ErrorInfo(retryable=False, kind="input")
    names = _class_names(exc)
    status, headers = _status_of(exc)
    if status is not None:
        retry_after = _parse_retry_after(headers)
        should_retry = _header(headers.get, "x-should-retry") if hasattr(headers, "get") else None
        retryable = status in RETRYABLE_STATUSES
        if should_retry in ("true", "false"):  # the provider's explicit word wins (OpenAI, Anthropic)
            retryable = should_retry == "true"
        rate_limited = status in _RATE_LIMIT_STATUSES
        if rate_limited:
            kind = "rate_limit"
        elif status >= 500:
            kind = "server"
        elif status == 408:
            kind = "timeout"
        else:
            kind = "client"
        return ErrorInfo(retryable=retryable, rate_limited=rate_limited, retry_after_s=retry_after, status=status, kind=kind)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) or names & {
        "APITimeoutError",
        "InferenceTimeoutError",
        "TimeoutException",
        "ReadTimeout",
        "ConnectTimeout",
        "WriteTimeout",
        "PoolTimeout",
        "Timeout",
    }:
        return ErrorInfo(retryable=True, kind="timeout")
    if isinstance(exc, ConnectionError) or names & {
        "APIConnectionError",
        "TransportError",
        "NetworkError",
        "ConnectError",
        "ReadError",
        "WriteError",
        "RemoteProtocolError",
        "RemoteDisconnected",
        "IncompleteRead",
    }:
        return ErrorInfo(retryable=True, kind="connection")
    if isinstance(exc, json.JSONDecodeError) or names & {"APIResponseValidationError", "DecodingError"}:
        # A 2xx with a body that is not what the protocol promises: usually a proxy hiccup.
        return ErrorInfo(retryable=True, kind="malformed")
    return None


def classify_error(exc: BaseException) -> ErrorInfo:
    """Classify a failed model call. Never raises.

    Looks at ``exc`` and then its ``__cause__`` / ``__context__`` chain (an adapter may wrap an SDK
    error). Programming errors (``TypeError``, ``AttributeError``, ``KeyError``, ...) and
    bayesbench's own configuration/dataset errors are not retryable: retrying cannot fix them.
    Anything else unrecognised is retryable (a flaky home-made client); a function that knows
    better raises :class:`ModelCallError` with ``retryable=False``.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    for _ in range(8):  # bounded: chains can be cyclic
        if current is None or id(current) in seen:
            break
        seen.add(id(current))
        try:
            info = _classify_one(current)
        except Exception:  # a hostile __getattr__ must not break the retry loop
            info = None
        if info is not None:
            return info
        current = current.__cause__ or current.__context__
    if isinstance(exc, PROGRAMMING_ERRORS):
        return ErrorInfo(retryable=False, kind="bug")
    return ErrorInfo(retryable=True, kind="unknown")
