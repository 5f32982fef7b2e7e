"""Monitor trends for the dashboard, read from the monitor tables (filled in once they exist)."""

from __future__ import annotations

from typing import Any


def available(store: Any) -> bool:
    return False


def monitor_list(store: Any) -> list[dict[str, Any]]:
    return []


def monitor_view(store: Any, name: str) -> dict[str, Any] | None:
    return None
