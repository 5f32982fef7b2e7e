"""Result objects of a benchmark evaluation: a score with its interval, and the whole run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine._results import PostResults, resources_dict
from ..errors import missing_dependency

_Z = {0.90: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004}


def _z(level: float) -> float:
    if level in _Z:
        return _Z[level]
    from scipy.stats import norm  # scipy is a core dependency; only needed for unusual levels

    return float(norm.ppf(0.5 + level / 2))


@dataclass(frozen=True)
class ScoreEstimate:
    """A mean score in [0, 1] with a confidence interval; ``float(est)`` gives ``value``.

    ``method`` names the interval: ``"wilson"`` for 0/1 scores (good coverage at small n and near 0 or 1),
    ``"normal"`` (CLT with the sample variance, clipped to [0, 1]) for fractional scores such as DROP F1
    or pass@k. ``n`` counts every scored problem, failed calls included (they score 0).
    """

    value: float
    ci: tuple[float, float]
    n: int
    method: str
    level: float = 0.95

    def __float__(self) -> float:
        return float(self.value)

    def __repr__(self) -> str:
        lo, hi = self.ci
        return f"{self.value:.3f} [{lo:.3f}, {hi:.3f}] (n={self.n}, {self.method} {self.level:.0%})"

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci": list(self.ci), "n": self.n, "method": self.method, "level": self.level}

    @classmethod
    def from_scores(cls, scores: Sequence[float], *, level: float = 0.95) -> ScoreEstimate:
        """Mean of ``scores`` with a Wilson interval if all are 0/1, else a clipped normal interval."""
        n = len(scores)
        if n == 0:
            return cls(value=math.nan, ci=(math.nan, math.nan), n=0, method="none", level=level)
        mean = math.fsum(scores) / n
        z = _z(level)
        if all(s in (0.0, 1.0) for s in scores):
            denom = 1 + z * z / n
            centre = (mean + z * z / (2 * n)) / denom
            half = z * math.sqrt(mean * (1 - mean) / n + z * z / (4 * n * n)) / denom
            return cls(mean, (max(0.0, centre - half), min(1.0, centre + half)), n, "wilson", level)
        var = math.fsum((s - mean) ** 2 for s in scores) / (n - 1) if n > 1 else 0.25
        half = z * math.sqrt(var / n)
        return cls(mean, (max(0.0, mean - half), min(1.0, mean + half)), n, "normal", level)


@dataclass(frozen=True)
class PredictionRecord:
    """One scored problem: what was asked, what came back, and how it scored."""

    task: str
    problem_id: str
    input: str
    prediction: str | None
    expected_output: str
    score: float
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _frame(rows: list[dict[str, Any]], columns: list[str], feature: str) -> Any:
    try:
        import pandas as pd
    except ImportError:  # pandas is an optional extra
        raise missing_dependency("pandas", "pandas", feature) from None
    return pd.DataFrame(rows, columns=columns)


@dataclass
class BenchmarkResult(PostResults):
    """Everything one ``evaluate`` produced.

    ``overall_accuracy`` is the benchmark's headline metric (also in ``metrics`` under ``primary_metric``);
    ``task_scores`` maps each task to its estimate; ``records`` holds one :class:`PredictionRecord` per
    problem; ``source`` says where the data came from (``data_dir:…``, ``package:…``, ``vendored:…`` or
    ``hub:…``); ``seed`` and ``n_problems`` make the subset reproducible.
    """

    benchmark: str
    model_name: str
    overall_accuracy: ScoreEstimate
    task_scores: dict[str, ScoreEstimate]
    metrics: dict[str, ScoreEstimate]
    primary_metric: str
    records: list[PredictionRecord]
    n_problems: int
    n_errors: int
    seed: int
    n_shots: int
    source: str
    settings: dict[str, Any] = field(default_factory=dict)
    #: with n_runs > 1: mean, SE clustered by problem, between-run and between-problem variance
    repeats: dict[str, Any] | None = None
    #: CPU, memory and GPU use during the evaluation (a bayesbench.ops.ResourceReport), None when not monitored
    resources: Any = field(default=None, repr=False)

    @property
    def overall_score(self) -> float:
        """DeepEval's name for the headline number, as a plain float."""
        return float(self.overall_accuracy)

    @property
    def predictions(self) -> Any:
        """A pandas DataFrame: task, input, prediction, expected_output, score, error, problem_id."""
        cols = ["task", "input", "prediction", "expected_output", "score", "error", "problem_id"]
        rows = [{c: getattr(r, c) for c in cols} for r in self.records]
        return _frame(rows, cols, "BenchmarkResult.predictions")

    def task_scores_frame(self) -> Any:
        """``task_scores`` as a pandas DataFrame (task, accuracy, ci_low, ci_high, n)."""
        cols = ["task", "accuracy", "ci_low", "ci_high", "n"]
        rows = [
            {"task": t, "accuracy": e.value, "ci_low": e.ci[0], "ci_high": e.ci[1], "n": e.n}
            for t, e in self.task_scores.items()
        ]
        return _frame(rows, cols, "BenchmarkResult.task_scores_frame()")

    def summary(self) -> str:
        lines = [
            f"{self.benchmark} — {self.model_name}: {self.primary_metric} = {self.overall_accuracy!r}",
            f"  problems: {self.n_problems} (errors: {self.n_errors}), shots: {self.n_shots}, seed: {self.seed}",
            f"  source: {self.source}",
        ]
        for name, est in self.metrics.items():
            if name != self.primary_metric:
                lines.append(f"  {name}: {est!r}")
        for task, est in self.task_scores.items():
            lines.append(f"  [{task}] {est!r}")
        if self.repeats:
            from ..engine._repeats import repeats_line

            lines.append(repeats_line(self.repeats).lstrip("\n").replace("    ", "  ", 1))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, path: Any = None) -> Any:
        """The headline score and each task's score with its interval as a matplotlib Figure (saved to
        ``path``, .png or .svg, when given); needs ``pip install "bayesbench[plots]"``."""
        from ..plots import task_scores

        return task_scores(self, path=path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "model_name": self.model_name,
            "overall_accuracy": self.overall_accuracy.to_dict(),
            "primary_metric": self.primary_metric,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "task_scores": {k: v.to_dict() for k, v in self.task_scores.items()},
            "n_problems": self.n_problems,
            "n_errors": self.n_errors,
            "seed": self.seed,
            "n_shots": self.n_shots,
            "source": self.source,
            "settings": dict(self.settings),
            "repeats": self.repeats,
            "resources": resources_dict(self.resources),
        }
