"""Which model errors are worth retrying, and how long the provider asked us to wait.

The adapters layer owns the real classifier (``bayesbench.models.classify_error``); this module
uses it when it exists and otherwise falls back to a stand-in that understands the common shapes:
an exception with ``status_code`` (openai, anthropic, httpx) or ``response.status_code``, and
``Retry-After`` / ``retry-after-ms`` headers.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass
from typing import Any, Callable

#: Statuses that say "try again later" rather than "this request is wrong".
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
#: Exceptions that mean a bug in the calling code; retrying would only waste time.
PROGRAMMING_ERRORS = (TypeError, AttributeError, NameError, NotImplementedError, ImportError)


@dataclass(frozen=True)
class ErrorInfo:
    retryable: bool
    rate_limited: bool = False
    retry_after_s: float | None = None
    status: int | None = None


def _status(exc: BaseException) -> int | None:
    for obj in (exc, getattr(exc, "response", None)):
        for attr in ("status_code", "status"):
            v = getattr(obj, attr, None)
            if isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599:
                return v
    return None


def _headers(exc: BaseException) -> Any:
    h = getattr(exc, "headers", None)
    if h is None:
        h = getattr(getattr(exc, "response", None), "headers", None)
    return h


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms``, ``Retry-After`` (seconds or an HTTP date), else None."""
    if headers is None:
        return None
    try:
        get = headers.get
    except AttributeError:
        return None

    def find(name: str) -> Any:
        v = get(name)
        if v is None:
            v = get(name.title())
        return v

    ms = find("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except (TypeError, ValueError):
            pass
    ra = find("retry-after")
    if ra is None:
        return None
    try:
        return max(0.0, float(ra))
    except (TypeError, ValueError):
        try:
            when = email.utils.parsedate_to_datetime(str(ra))
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - time.time())


def fallback_classify(exc: BaseException) -> ErrorInfo:
    status = _status(exc)
    retry_after = parse_retry_after(_headers(exc))
    if retry_after is None:
        v = getattr(exc, "retry_after", None)
        retry_after = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    rate_limited = status == 429 or "ratelimit" in type(exc).__name__.lower()
    if status is not None:
        retryable = rate_limited or status in RETRYABLE_STATUS or status >= 500
    elif isinstance(exc, (asyncio.TimeoutError, TimeoutError, ConnectionError, OSError)):
        retryable = True
    else:
        retryable = rate_limited or not isinstance(exc, PROGRAMMING_ERRORS)
    return ErrorInfo(retryable=retryable, rate_limited=rate_limited, retry_after_s=retry_after, status=status)


def default_classifier() -> Callable[[BaseException], Any]:
    """``bayesbench.models.classify_error`` when the adapters layer provides it, else the stand-in."""
    try:
        from .. import models
    except ImportError:  # pragma: no cover - the package always has models/
        return fallback_classify
    f = getattr(models, "classify_error", None)
    return f if callable(f) else fallback_classify


def classify_with(classifier: Callable[[BaseException], Any], exc: BaseException) -> ErrorInfo:
    """Run a classifier and normalise its answer (anything with the four ErrorInfo attributes)."""
    try:
        info = classifier(exc)
    except Exception:  # a broken classifier must not turn a model error into a crash
        info = fallback_classify(exc)
    ra = getattr(info, "retry_after_s", None)
    st = getattr(info, "status", None)
    return ErrorInfo(
        retryable=bool(getattr(info, "retryable", True)),
        rate_limited=bool(getattr(info, "rate_limited", False)),
        retry_after_s=float(ra) if isinstance(ra, (int, float)) and not isinstance(ra, bool) else None,
        status=st if isinstance(st, int) and not isinstance(st, bool) else None,
    )
