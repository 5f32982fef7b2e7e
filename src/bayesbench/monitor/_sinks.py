"""Alert sinks: the log, and a JSON webhook with a Slack-compatible ``{"text": ...}`` body.

The store is the record (every check is written there first, by the monitor); a sink only tells someone.
A sink never raises: a webhook that is down is logged (with its URL reduced to scheme and host, because the
path of a Slack/Teams webhook URL is its secret) and the monitor carries on.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any, Protocol

from ._config import redact_url

__all__ = ["AlertSink", "LogSink", "WebhookSink", "alert_text"]

logger = logging.getLogger("bayesbench.monitor")


class AlertSink(Protocol):
    """Anything with ``send(check) -> bool`` (True when delivered)."""

    def send(self, check: Any) -> bool: ...


def _g(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def alert_text(check: Any) -> str:
    """One line for people: which monitor, metric and run, by how much, and the evidence."""
    d = check.to_dict() if hasattr(check, "to_dict") else dict(check)
    est = d.get("estimate")
    lo, hi = d.get("ci_low"), d.get("ci_high")
    unit = d.get("unit", "")
    est_s = "?" if est is None else f"{est:+.4g}{unit}"
    ci = "" if lo is None or hi is None else f" (run CI [{lo:+.4g}, {hi:+.4g}])"
    return (f"bayesbench monitor {d.get('monitor')!r}: {d.get('metric')} regression on run {d.get('run_id')}: "
            f"new - baseline = {est_s}{ci}, worse than the margin {d.get('margin')}{unit}; "
            f"lifetime e-value {d.get('e_value_text', d.get('e_value'))} >= {_g(d.get('threshold_e'))} "
            f"({d.get('multiplicity')}, alpha={d.get('alpha')})")


class LogSink:
    """Logs alerts at WARNING (and every check at INFO) on the ``bayesbench.monitor`` logger."""

    def __init__(self, log: logging.Logger | None = None) -> None:
        self.log = log or logger

    def send(self, check: Any) -> bool:
        self.log.warning("%s", alert_text(check))
        return True


class WebhookSink:
    """POST ``{"text": <alert line>, "bayesbench": <the check as a dict>}`` as JSON (Slack, Mattermost, Teams
    workflows and plain receivers accept it).

    Parameters
    ----------
    url:
        The webhook URL (a secret: it is never logged or stored; only ``redact_url(url)`` is).
    timeout_s:
        Seconds per attempt. Default 10.
    attempts:
        Tries before giving up (a 5xx or a network error is retried, a 4xx is not). Default 2.
    """

    def __init__(self, url: str, *, timeout_s: float = 10.0, attempts: int = 2) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("a webhook URL must start with http:// or https://")
        self._url = url
        self.safe_url = redact_url(url)
        self.timeout_s = float(timeout_s)
        self.attempts = max(1, int(attempts))
        self.last_error: str | None = None

    def __repr__(self) -> str:
        return f"WebhookSink({self.safe_url!r})"

    def body(self, check: Any) -> bytes:
        d = check.to_dict() if hasattr(check, "to_dict") else dict(check)
        return json.dumps({"text": alert_text(check), "bayesbench": d}, default=str).encode("utf-8")

    def send(self, check: Any) -> bool:
        data = self.body(check)
        attempt = 0
        while attempt < self.attempts:
            attempt += 1
            req = urllib.request.Request(self._url, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (http/https only)
                    resp.read()
                self.last_error = None
                return True
            except urllib.error.HTTPError as exc:
                self.last_error = f"HTTP {exc.code}"
                if exc.code < 500:
                    break
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                self.last_error = type(reason).__name__ if not isinstance(reason, str) else "network error"
        logger.error("bayesbench monitor: webhook %s failed (%s) after %d attempt(s); the check is in the store",
                     self.safe_url, self.last_error, attempt)
        return False
