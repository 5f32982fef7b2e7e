"""Run the dashboard with uvicorn: loopback by default, a token to post, a token to listen anywhere else."""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from ..errors import ConfigError, missing_dependency

__all__ = ["serve", "check_bind"]

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, allow_remote: bool) -> list[str] | None:
    """Refuse a non-loopback address unless ``allow_remote`` and a token; return the Host names to accept."""
    if not isinstance(host, str) or not host:
        raise ConfigError(f"`host` must be an address such as '127.0.0.1', got {host!r}")
    if _is_loopback(host):
        return LOOPBACK_NAMES if host in LOOPBACK_NAMES else None
    if not allow_remote:
        raise ConfigError(f"`host` {host!r} is not a loopback address: the dashboard would be reachable from other "
                          "machines. Pass --allow-remote (allow_remote=True) together with --token to do that on "
                          "purpose, or keep the default 127.0.0.1")
    if not token:
        raise ConfigError(f"listening on {host!r} needs a token (--token or BAYESBENCH_TOKEN), so that only its "
                          "holders can post runs")
    return None


def serve(store: Any = "bayesbench.sqlite", *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          token: str | None = None, allow_remote: bool = False, log_level: str = "warning",
          annotate: Any = None) -> None:
    """Serve the dashboard over ``store`` until interrupted (blocking).

    ``host`` defaults to 127.0.0.1; any other address needs ``allow_remote=True`` and a ``token``.
    ``token`` (default: the ``BAYESBENCH_TOKEN`` environment variable) is what ``POST /api/runs`` requires;
    without one, posting is disabled and the pages are read-only as always. ``annotate``: an annotation round's
    SQLite file whose labelling pages are served under ``/annotate``.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"`port` must be an integer in [0, 65535], got {port!r}")
    token = token if token is not None else (os.environ.get("BAYESBENCH_TOKEN") or None)
    allowed = check_bind(host, token, allow_remote)
    try:
        import uvicorn
    except ImportError:
        raise missing_dependency("uvicorn", "serve", "The dashboard (bayesbench serve)") from None
    from ._app import create_app

    app = create_app(store, token=token, allowed_hosts=allowed, annotate=annotate)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
