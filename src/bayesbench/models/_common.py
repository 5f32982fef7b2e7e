"""The lazy import of optional SDKs, shared by every adapter."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import missing_dependency

__all__ = ["require"]


def require(module: str, *, package: str, extra: str, feature: str) -> Any:
    """Import an optional SDK or raise the uniform MissingDependencyError with the pip line."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_dependency(package, extra, feature) from exc
