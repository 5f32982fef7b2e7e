"""The result of an estimate: what was measured, how, and how sure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Estimate"]


@dataclass
class Estimate:
    """A new model's estimated bank-wide mean.

    mean: the estimate of the mean score over all bank items.
    ci: the interval at level ``confidence`` (``ci_kind`` says which: "anytime" = valid at every
        budget simultaneously, "asymptotic" = martingale CLT at the final budget, "wilson"/"exact" for
        the uniform baseline, "model" for the IRT baseline, which has no coverage guarantee).
    n: questions drawn (the budget used; with replacement, so an item may be drawn twice).
    n_calls: distinct items the model was actually asked (repeat draws reuse the answer).
    items: item ids in the order they were drawn.
    effective_sample_size: the budget a plain uniform sample mean would need for the same variance
        (n x estimated variance ratio); ``ess_gain`` = that / n.
    trace: (n, mean, lo, hi) after every draw, for progress displays and plots.
    terms: (x_s, (lo_s, hi_s)) per draw for the active method: each importance-weighted term and the bounds
        it was known to lie in before it was drawn (diagnostics; the betting interval uses them).
    """

    mean: float
    ci: tuple[float, float]
    n: int
    n_calls: int
    items: list[str]
    effective_sample_size: float
    method: str
    ci_kind: str
    confidence: float
    seed: int | None
    budget: int
    std_error: float = float("nan")
    stopped_early: bool = False
    trace: list[tuple[int, float, float, float]] = field(default_factory=list, repr=False)
    terms: list[tuple[float, tuple[float, float]]] = field(default_factory=list, repr=False)

    @property
    def width(self) -> float:
        return self.ci[1] - self.ci[0]

    @property
    def ess_gain(self) -> float:
        return self.effective_sample_size / self.n if self.n else float("nan")

    def to_dict(self, trace: bool = False) -> dict[str, Any]:
        d = asdict(self)
        d["ci"] = list(self.ci)
        d.pop("terms")
        if not trace:
            d.pop("trace")
        else:
            d["trace"] = [list(t) for t in self.trace]
        return d

    def summary(self) -> str:
        lo, hi = self.ci
        stop = ", stopped at the target width" if self.stopped_early else ""
        return (
            f"{self.method}: mean {self.mean:.3f}, {self.confidence:.0%} {self.ci_kind} interval "
            f"[{lo:.3f}, {hi:.3f}] (width {self.width:.3f}); {self.n} questions drawn, {self.n_calls} asked"
            f"{stop}; effective sample size {self.effective_sample_size:.0f} ({self.ess_gain:.1f}x); seed {self.seed}"
        )
