"""Error classification: the one place that says whether a failed model call is worth retrying.

Adapters never retry (their SDKs run with ``max_retries=0``); the execution layer asks
:func:`classify_error` and decides. It understands the openai and anthropic SDK exceptions,
httpx / requests style errors (anything with ``.response.status_code``), timeouts, connection
errors and :class:`ModelCallError` (with its subclasses :class:`MalformedResponse` and
:class:`IncompleteResponse`), which adapters and user functions may raise themselves. SDKs are
never imported here: recognition is by attributes and class names, so classification works
whether or not an SDK is installed.

The classes (``ErrorInfo.kind``), decided once here:

=============  ==========  ======================================================================
kind           retryable   what
=============  ==========  ======================================================================
rate_limit     yes         429, Anthropic 529 "overloaded", a ``*RateLimit*`` exception: also slow down
server         yes         500, 502, 503, 504 and the gateway errors 520-524 (transient)
server         no          every other 5xx: 501 Not Implemented, 505 ... 511 (the server says it
                           cannot do this request at all; retrying the same request cannot help)
timeout        yes         408, an SDK / httpx / asyncio timeout
client         yes         409 Conflict, 425 Too Early (the same request may succeed a moment later)
client         no          every other 4xx (400, 401, 403, 404, 413, 422 ...)
connection     yes         refused, reset or dropped connections
malformed      yes         a 2xx whose body is not the protocol's (HTML page, cut-off JSON)
incomplete     yes         a 2xx that is not a whole answer (no choices, null text, a stream that
                           ended before its end marker)
input          no          bayesbench's own configuration / dataset errors
bug            no          a programming error in the model function (TypeError, KeyError ...)
unknown        yes         anything else (a flaky home-made client)
=============  ==========  ======================================================================

A provider's ``x-should-retry: true|false`` header overrides the table for its status.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BayesbenchError, ModelError

__all__ = [
    "ErrorInfo",
    "IncompleteResponse",
    "MalformedResponse",
    "ModelCallError",
    "PROGRAMMING_ERRORS",
    "RETRYABLE_STATUSES",
    "classify_error",
    "classify_status",
    "classify_with",
    "default_classifier",
    "parse_retry_after",
]

#: HTTP statuses worth retrying (see the module docstring for why each is here).
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
#: Statuses that are back-pressure: the caller should slow down, not only wait.
_RATE_LIMIT_STATUSES = frozenset({429, 529})
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
_TIMEOUT_NAMES = frozenset({"APITimeoutError", "InferenceTimeoutError", "TimeoutException", "ReadTimeout",
                            "ConnectTimeout", "WriteTimeout", "PoolTimeout", "Timeout"})
_CONNECTION_NAMES = frozenset({"APIConnectionError", "TransportError", "NetworkError", "ConnectError", "ReadError",
                               "WriteError", "RemoteProtocolError", "RemoteDisconnected", "IncompleteRead"})
_MALFORMED_NAMES = frozenset({"APIResponseValidationError", "DecodingError"})


@dataclass(frozen=True)
class ErrorInfo:
    """What the execution layer needs to know about a failed call.

    * ``retryable``: trying the same call again may succeed.
    * ``rate_limited``: the provider asked us to slow down (429, Anthropic 529): shrink concurrency.
    * ``retry_after_s``: seconds the provider asked us to wait (``Retry-After`` / ``retry-after-ms``).
    * ``status``: the HTTP status when there was a response.
    * ``kind``: the class of the failure, one of the kinds in this module's table.
    """

    retryable: bool
    rate_limited: bool = False
    retry_after_s: float | None = None
    status: int | None = None
    kind: str = "unknown"


def classify_status(status: int) -> ErrorInfo:
    """The table's answer for an HTTP status (no headers considered)."""
    rate_limited = status in _RATE_LIMIT_STATUSES
    if rate_limited:
        kind = "rate_limit"
    elif status == 408:
        kind = "timeout"
    elif status >= 500:
        kind = "server"
    else:
        kind = "client"
    return ErrorInfo(retryable=status in RETRYABLE_STATUSES, rate_limited=rate_limited, status=status, kind=kind)


class ModelCallError(ModelError):
    """A model call failed; adapters and user model functions may raise it to say how.

    ``ModelCallError("quota exhausted", status=429, retry_after_s=2.0)`` is classified as
    retryable and rate limited with a 2 s wait. ``retryable``, ``rate_limited`` and ``kind``
    default from ``status`` (see :func:`classify_status`); with no status the call is retryable.
    """

    default_kind = "unknown"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        retryable: bool | None = None,
        rate_limited: bool | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        table = classify_status(status) if status is not None else ErrorInfo(retryable=True, kind=self.default_kind)
        self.status = status
        self.retry_after_s = retry_after_s
        self.retryable = table.retryable if retryable is None else bool(retryable)
        self.rate_limited = table.rate_limited if rate_limited is None else bool(rate_limited)
        self.kind = kind or table.kind

    def info(self) -> ErrorInfo:
        return ErrorInfo(retryable=self.retryable, rate_limited=self.rate_limited, retry_after_s=self.retry_after_s,
                         status=self.status, kind=self.kind)


class MalformedResponse(ModelCallError):
    """The provider answered (usually 200) with a body that is not its protocol's answer: an HTML
    page, cut-off JSON, a value of the wrong shape. Retryable: usually a proxy hiccup."""

    default_kind = "malformed"


class IncompleteResponse(MalformedResponse):
    """A well-formed response that is not a whole answer: no choices, a null text, a stream that
    ended before its end marker. Never scored or cached; retryable."""

    default_kind = "incomplete"


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI/Anthropic) or ``Retry-After`` (RFC 9110:
    seconds or an HTTP date). None when absent or unreadable."""
    if headers is None:
        return None
    try:
        get = headers.get
    except AttributeError:
        return None
    ms = _header(get, "retry-after-ms")
    if ms is not None:
        value = _nonneg_float(ms)
        if value is not None:
            return value / 1000.0
    raw = _header(get, "retry-after")
    if raw is None:
        return None
    value = _nonneg_float(raw)
    if value is not None:
        return value
    try:  # an HTTP date
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _nonneg_float(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _header(get: Any, name: str) -> str | None:
    # httpx/requests headers are case-insensitive; plain dicts are not.
    for key in (name, name.title(), name.upper()):
        value = get(key)
        if value is not None:
            return str(value)
    return None


def _status_of(exc: BaseException) -> tuple[int | None, Any]:
    response = getattr(exc, "response", None)
    status = None
    for obj in (exc, response):
        for attr in ("status_code", "status"):
            value = getattr(obj, attr, None)
            if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
                status = value
                break
        if status is not None:
            break
    headers = getattr(response, "headers", None) if response is not None else None
    if headers is None:
        headers = getattr(exc, "headers", None)
    return status, headers


def _classify_one(exc: BaseException) -> ErrorInfo | None:
    if isinstance(exc, ModelCallError):
        return exc.info()
    if isinstance(exc, BayesbenchError):
        # Our own configuration / dataset errors: retrying the same input cannot help.
        return ErrorInfo(retryable=False, kind="input")
    names = {cls.__name__ for cls in type(exc).__mro__}
    status, headers = _status_of(exc)
    retry_after = parse_retry_after(headers)
    if retry_after is None:
        attr = getattr(exc, "retry_after", None)
        retry_after = _nonneg_float(attr) if isinstance(attr, (int, float)) and not isinstance(attr, bool) else None
    if status is not None:
        info = classify_status(status)
        should_retry = _header(headers.get, "x-should-retry") if hasattr(headers, "get") else None
        retryable = info.retryable
        if should_retry in ("true", "false"):  # the provider's explicit word wins (OpenAI, Anthropic)
            retryable = should_retry == "true"
        return ErrorInfo(retryable=retryable, rate_limited=info.rate_limited, retry_after_s=retry_after,
                         status=status, kind=info.kind)
    if any("RateLimit" in n for n in names):
        return ErrorInfo(retryable=True, rate_limited=True, retry_after_s=retry_after, kind="rate_limit")
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) or names & _TIMEOUT_NAMES:
        return ErrorInfo(retryable=True, kind="timeout")
    if isinstance(exc, ConnectionError) or names & _CONNECTION_NAMES:
        return ErrorInfo(retryable=True, kind="connection")
    if isinstance(exc, json.JSONDecodeError) or names & _MALFORMED_NAMES:
        # A 2xx with a body that is not what the protocol promises: usually a proxy hiccup.
        return ErrorInfo(retryable=True, kind="malformed")
    return None


def classify_error(exc: BaseException) -> ErrorInfo:
    """Classify a failed model call (see the table in this module's docstring). Never raises.

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


def default_classifier() -> Callable[[BaseException], ErrorInfo]:
    """The classifier an executor uses when none is given: :func:`classify_error`."""
    return classify_error


def classify_with(classifier: Callable[[BaseException], Any], exc: BaseException) -> ErrorInfo:
    """Run a user-supplied classifier and normalise its answer (anything with ErrorInfo's
    attributes) to an :class:`ErrorInfo`; a classifier that raises falls back to :func:`classify_error`."""
    try:
        info = classifier(exc)
    except Exception:  # a broken classifier must not turn a model error into a crash
        info = classify_error(exc)
    ra = getattr(info, "retry_after_s", None)
    st = getattr(info, "status", None)
    kind = getattr(info, "kind", "unknown")
    return ErrorInfo(
        retryable=bool(getattr(info, "retryable", True)),
        rate_limited=bool(getattr(info, "rate_limited", False)),
        retry_after_s=float(ra) if isinstance(ra, (int, float)) and not isinstance(ra, bool) else None,
        status=st if isinstance(st, int) and not isinstance(st, bool) else None,
        kind=kind if isinstance(kind, str) else "unknown",
    )
