"""The shape every toolkit result shares: a frozen record with ``.to_dict()`` and ``.summary()``,
plus the input checks the toolkit's functions share (one message shape: "`name` must be ..., got ...")."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..errors import ConfigError

ALTERNATIVES = ("two-sided", "greater", "less")


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class StatResult:
    """Base of the toolkit's results: every field is plain data, ``to_dict()`` gives it JSON-ready."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def summary(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()


def check_level(level: Any, name: str = "level") -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not (0.0 < level < 1.0):
        raise ConfigError(f"`{name}` must be in (0, 1), e.g. 0.95, got {level!r}")
    return float(level)


def check_alternative(alternative: Any) -> str:
    if alternative not in ALTERNATIVES:
        raise ConfigError(f"`alternative` must be one of {', '.join(repr(a) for a in ALTERNATIVES)}, got {alternative!r}")
    return str(alternative)


def check_seed(seed: Any) -> int:
    """The seed a random method uses: the user's, or one drawn now (and recorded in the result)."""
    if seed is None:
        return secrets.randbits(31)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be a non-negative integer or None (drawn and recorded), got {seed!r}")
    return int(seed)


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_values(name: str, values: Any, *, minimum: int = 1) -> np.ndarray:
    """A 1-D array of finite floats with at least ``minimum`` entries, or a ConfigError saying why not."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"`{name}` must be a sequence of numbers, got {values!r}") from None
    if arr.ndim != 1:
        raise ConfigError(f"`{name}` must be a flat sequence of numbers, got shape {arr.shape}")
    if arr.shape[0] < minimum:
        raise ConfigError(f"`{name}` must hold at least {minimum} value(s), got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ConfigError(f"`{name}[{i}]` must be a finite number, got {arr[i]!r}")
    return arr


def as_pairs(a: Any, b: Any, *, minimum: int = 1) -> tuple[np.ndarray, np.ndarray]:
    xa, xb = as_values("a", a, minimum=minimum), as_values("b", b, minimum=minimum)
    if xa.shape[0] != xb.shape[0]:
        raise ConfigError(f"`a` and `b` must be paired (same problems, same order), got lengths "
                          f"{xa.shape[0]} and {xb.shape[0]}")
    return xa, xb


def as_binary(name: str, values: np.ndarray) -> np.ndarray:
    if not np.all((values == 0) | (values == 1)):
        i = int(np.flatnonzero((values != 0) & (values != 1))[0])
        raise ConfigError(f"`{name}[{i}]` must be 0 or 1 (correct or not), got {values[i]!r}")
    return values


def check_proportion(name: str, value: Any, *, open_: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not ((0.0 < value < 1.0) if open_ else (0.0 <= value <= 1.0)):
        where = "(0, 1)" if open_ else "[0, 1]"
        raise ConfigError(f"`{name}` must be a proportion in {where}, got {value!r}")
    return float(value)


def fmt_p(p: float) -> str:
    return f"{p:.3g}" if p >= 1e-4 else f"{p:.1e}"
