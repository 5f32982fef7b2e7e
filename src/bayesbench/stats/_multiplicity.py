"""Adjusting p-values across tasks: Holm (family-wise error) and Benjamini–Hochberg (false discovery rate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ._report import StatResult, as_values, check_level

__all__ = ["AdjustedPValues", "adjust_p_values"]

METHODS = ("holm", "bh")


@dataclass(frozen=True)
class AdjustedPValues(StatResult):
    """``adjusted[i]`` belongs to ``p_values[i]`` (input order); ``reject[i]`` is ``adjusted[i] <= alpha``."""

    method: str
    alpha: float
    n: int
    p_values: tuple[float, ...]
    adjusted: tuple[float, ...]
    reject: tuple[bool, ...]
    names: tuple[str, ...] | None = None

    def summary(self) -> str:
        label = {"holm": "Holm (FWER)", "bh": "Benjamini-Hochberg (FDR)"}[self.method]
        names = self.names or tuple(f"#{i}" for i in range(self.n))
        rows = [f"{label} at alpha={self.alpha:g}, {sum(self.reject)} of {self.n} rejected:"]
        rows += [f"  {name}: p={p:.4g} adjusted={q:.4g}{' *' if r else ''}"
                 for name, p, q, r in zip(names, self.p_values, self.adjusted, self.reject)]
        return "\n".join(rows)


def adjust_p_values(p_values: Any, *, method: str = "holm", alpha: float = 0.05) -> AdjustedPValues:
    """Holm's step-down (``method="holm"``: family-wise error <= alpha) or Benjamini–Hochberg's step-up
    (``"bh"``: false discovery rate <= alpha for independent or positively dependent tests) adjusted
    p-values. ``p_values`` may be a mapping task -> p-value (names are kept)."""
    names: tuple[str, ...] | None = None
    if isinstance(p_values, dict):
        names = tuple(str(k) for k in p_values)
        p_values = list(p_values.values())
    p = as_values("p_values", p_values)
    if np.any((p < 0) | (p > 1)):
        raise ConfigError(f"`p_values` must all be in [0, 1], got {p.tolist()!r}")
    if method not in METHODS:
        raise ConfigError(f"`method` must be one of 'holm', 'bh', got {method!r}")
    alpha = check_level(alpha, "alpha")
    m = p.shape[0]
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        stepped = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        stepped = np.minimum.accumulate((m / np.arange(m, 0, -1)) * ranked[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return AdjustedPValues(method, alpha, int(m), tuple(float(x) for x in p), tuple(float(x) for x in adjusted),
                           tuple(bool(x <= alpha) for x in adjusted), names)
