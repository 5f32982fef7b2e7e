"""Effect sizes with Cohen's (1988) conventional reading: |effect| < 0.2 negligible, < 0.5 small,
< 0.8 medium, otherwise large (conventions, not laws: a 'small' gap can decide a deployment)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ._report import StatResult, as_pairs, as_values, check_proportion

__all__ = ["EffectSize", "cohens_h", "cohens_d", "interpret_effect"]

_BANDS = ((0.2, "negligible"), (0.5, "small"), (0.8, "medium"))


def interpret_effect(value: float) -> str:
    """Cohen's band of ``|value|``: negligible, small, medium or large."""
    size = abs(float(value))
    return next((name for edge, name in _BANDS if size < edge), "large")


@dataclass(frozen=True)
class EffectSize(StatResult):
    """An effect size ``value`` with its conventional ``magnitude`` (negligible/small/medium/large)."""

    method: str
    value: float
    magnitude: str
    n: int | None = None

    def summary(self) -> str:
        n = f", n={self.n}" if self.n is not None else ""
        return f"{self.method} = {self.value:+.3f} ({self.magnitude}{n})"


def cohens_h(p1: float, p2: float) -> EffectSize:
    """Cohen's h between two proportions (accuracies): 2·asin√p1 − 2·asin√p2."""
    p1 = check_proportion("p1", p1)
    p2 = check_proportion("p2", p2)
    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))
    return EffectSize("Cohen's h", h, interpret_effect(h))


def cohens_d(a: Any, b: Any, *, paired: bool = False) -> EffectSize:
    """Cohen's d of ``a`` over ``b``: the mean difference over the pooled standard deviation, or with
    ``paired=True`` (same problems) d_z = mean(a − b) / sd(a − b)."""
    if paired:
        xa, xb = as_pairs(a, b, minimum=2)
        z = xa - xb
        sd = float(z.std(ddof=1))
        if sd == 0:
            raise ConfigError("every difference a - b is the same: d_z is undefined (zero spread)")
        d = float(z.mean()) / sd
        return EffectSize("Cohen's d_z (paired)", d, interpret_effect(d), int(z.shape[0]))
    xa, xb = as_values("a", a, minimum=2), as_values("b", b, minimum=2)
    na, nb = int(xa.shape[0]), int(xb.shape[0])
    pooled = math.sqrt(((na - 1) * float(xa.var(ddof=1)) + (nb - 1) * float(xb.var(ddof=1))) / (na + nb - 2))
    if pooled == 0:
        raise ConfigError("`a` and `b` have zero spread: Cohen's d is undefined")
    d = (float(xa.mean()) - float(xb.mean())) / pooled
    return EffectSize("Cohen's d (pooled sd)", d, interpret_effect(d), na + nb)
