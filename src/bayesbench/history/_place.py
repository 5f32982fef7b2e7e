"""Placement: where a new model ranks among the bank's recorded models.

The recorded models' bank-wide means are known; the new model's mean is covered by one interval (the
anytime confidence sequence by default, valid at every budget). Every claim "above model k" (L > mean_k)
or "below model k" (U < mean_k) is implied by that single interval, so all claims hold together with
probability >= confidence: the claims are simultaneous at no extra cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._active import estimate
from ._result import Estimate

__all__ = ["Placement", "place"]


@dataclass
class Placement:
    """above: recorded models the new model is certainly better than; below: certainly worse than.
    rank: (best, worst) possible 1-based rank among the bank's models plus the new one."""

    estimate: Estimate
    above: list[str]
    below: list[str]
    rank: tuple[int, int]
    n_models: int
    undecided: list[str] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate.to_dict(),
            "above": self.above,
            "below": self.below,
            "rank": list(self.rank),
            "n_models": self.n_models,
            "n_undecided": len(self.undecided),
        }

    def summary(self) -> str:
        e = self.estimate
        return (
            f"rank {self.rank[0]}-{self.rank[1]} of {self.n_models + 1}: certainly above {len(self.above)} and "
            f"below {len(self.below)} recorded models ({len(self.undecided)} too close to call); "
            f"mean {e.mean:.3f} [{e.ci[0]:.3f}, {e.ci[1]:.3f}] from {e.n} questions ({e.confidence:.0%}, {e.ci_kind})"
        )


def place(
    fit: Any,
    score_item: Callable[[int], Any],
    budget: int = 100,
    confidence: float = 0.95,
    seed: int | None = 0,
    ci: str = "anytime",
    target_width: float | None = None,
    **kw: Any,
) -> Placement:
    """Estimate the new model (``fit.estimate``) and compare its interval with every recorded model's mean."""
    est = estimate(
        fit, score_item, budget=budget, confidence=confidence, seed=seed, ci=ci, target_width=target_width, **kw
    )
    lo, hi = est.ci
    means = np.asarray(fit.model_means, dtype=float)
    order = np.argsort(-means, kind="stable")
    above = [fit.models[i] for i in order if means[i] < lo]
    below = [fit.models[i] for i in order if means[i] > hi]
    undecided = [fit.models[i] for i in order if lo <= means[i] <= hi]
    return Placement(
        estimate=est,
        above=above,
        below=below,
        rank=(len(below) + 1, len(below) + len(undecided) + 1),
        n_models=len(fit.models),
        undecided=undecided,
    )
