"""Boundary validation with one message shape: "`name` must be ..., got ..."."""

from __future__ import annotations

import math
from typing import Any

from .errors import ConfigError


def in_open_interval(name: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (lo < value < hi):
        raise ConfigError(f"`{name}` must be in ({lo:g}, {hi:g}), got {value!r}")
    return float(value)


def positive_int(name: str, value: Any, *, allow_none: bool = False, minimum: int = 1) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return value


def one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"`{name}` must be one of {options}, got {value!r}")
    return value


def finite_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"`{name}` must be a finite number, got {value!r}")
    return float(value)


def finite_or_none(x: Any) -> float | None:
    """``x`` as a float, or None for None, NaN and ±inf: how results put a number into JSON."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None
