"""Result objects: what a comparison, a multi-task benchmark and a ranking concluded.

Every number carries its uncertainty and the run carries its method, level, n and seed, so a
result can be audited and reproduced from ``to_dict()`` alone.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._validate import finite_or_none as _finite
from ..errors import missing_dependency
from ._repeats import repeats_line

_VERDICTS = {"A": "model_a", "B": "model_b"}


def _finite_tree(value: Any) -> Any:
    """``value`` with every non-finite float (e.g. the NaN between-run variance of one run) as None."""
    if isinstance(value, dict):
        return {k: _finite_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_tree(v) for v in value]
    return _finite(value) if isinstance(value, float) else value


def _e_values(log_e: dict[str, float]) -> dict[str, float]:
    # e-values can overflow a float after a few thousand decisive problems; keep them finite.
    return {k: float(math.exp(min(v, 700.0))) for k, v in log_e.items()}


def _dataframe(rows: list[dict[str, Any]], feature: str) -> Any:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - exercised in a subprocess test
        raise missing_dependency("pandas", "pandas", feature) from None
    return pd.DataFrame(rows)


@dataclass
class StoppingPath:
    """The engine's state after each batch of a two-model run, one entry per batch (what
    :func:`bayesbench.plots.stopping_path` draws).

    ``n``: problems used so far; ``log_e_a`` / ``log_e_b``: the running-max log e-values of "A beats B"
    and "B beats A" (a direction is certified when it reaches ``log_threshold`` = log(2/alpha): each
    direction is tested at alpha/2); ``cs_low`` / ``cs_high``: the anytime-valid confidence sequence for
    the mean difference A − B in score units, at level ``confidence``, and ``estimate`` its point
    estimate (the mean paired difference so far). Kept on the result only (not in
    ``to_dict()`` nor the store's summary; the store's ``decisions`` table holds the same per batch).
    """

    n: list[int]
    log_e_a: list[float]
    log_e_b: list[float]
    cs_low: list[float]
    cs_high: list[float]
    estimate: list[float]
    log_threshold: float
    confidence: float
    rule: str = "anytime"

    def __len__(self) -> int:
        return len(self.n)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": list(self.n),
            "log_e_a": [_finite(x) for x in self.log_e_a],
            "log_e_b": [_finite(x) for x in self.log_e_b],
            "cs_low": [_finite(x) for x in self.cs_low],
            "cs_high": [_finite(x) for x in self.cs_high],
            "estimate": [_finite(x) for x in self.estimate],
            "log_threshold": self.log_threshold,
            "confidence": self.confidence,
            "rule": self.rule,
        }


def resources_dict(resources: Any) -> dict[str, Any] | None:
    """A result's resource use as a dict: a ResourceReport's ``to_dict()``, or a mapping a caller attached."""
    if resources is None:
        return None
    return resources.to_dict() if hasattr(resources, "to_dict") else dict(resources)


def _plot(kind: str, obj: Any, path: Any, **options: Any) -> Any:
    """Draw ``obj`` with :mod:`bayesbench.plots` (imported only now: matplotlib is an optional extra)."""
    from .. import plots

    return getattr(plots, kind)(obj, path=path, **options)


class PostResults:
    """``post_results`` for the result classes (pairs, rankings, suites): one method, one docstring."""

    def post_results(self, *, model_name: str | None = None, tags: Sequence[str] = (), store: Any = None,
                     url: str | None = None, token: str | None = None, name: str | None = None) -> str:
        """File this result in a store, or send it to a running ``bayesbench serve``; returns its run id.

        ``store``: a :class:`~bayesbench.store.Store`, a SQLite path or a database URL (``"postgresql+psycopg://..."``);
        default ``"bayesbench.sqlite"`` in the working directory (the store's own default). ``url``: a
        ``bayesbench serve`` address (``"http://127.0.0.1:8765"``) to ``POST /api/runs`` to, with ``token`` (default:
        the ``BAYESBENCH_TOKEN`` environment variable). ``model_name``: the model the run is filed under (default:
        the result's own model names); ``tags``: labels to filter by (``["nightly", "v2.1"]``); ``name``: the run's
        name (default: the task's, the benchmark's, or ``"ranking"``). Writes the run, its per-item scores (and a
        suite's answers), the stopping path, usage and resources; posting the same result again (same
        ``model_name`` and ``name``) files it once; tags accumulate.
        """
        from ..store._post import post_result

        return post_result(self, model_name=model_name, tags=tags, store=store, url=url, token=token, name=name)


@dataclass
class TaskResult(PostResults):
    """The outcome of comparing two models on one task.

    ``winner`` is ``"model_a"``, ``"model_b"`` or ``None`` (no winner could be certified:
    equivalent, non-discriminating or undecided; ``status`` says which). ``difference`` is the mean
    paired score difference A − B over the problems used and ``ci`` its anytime-valid confidence
    interval at level ``confidence`` (for ``rule="fixed"`` the fixed-n interval, for
    ``rule="full_benchmark"`` an interval for the full-bank difference).
    """

    name: str
    winner: str | None
    status: str
    problems_tested: int
    total_problems: int
    p_a_beats_b: float
    posterior_a: Any
    posterior_b: Any
    difference: float
    ci: tuple[float, float]
    e_values: dict[str, float]
    stop_reason: str
    rule: str
    confidence: float
    seed: int
    model_calls: int
    mean_a: float
    mean_b: float
    model_a_name: str = "model_a"
    model_b_name: str = "model_b"
    errors: int = 0
    problem_order: list[int] = field(default_factory=list, repr=False)
    usage: dict[str, Any] | None = field(default=None, repr=False)
    run_id: str | None = None
    resumed: bool = False
    #: Who produced the scores when it was not a plain function: an LLM judge's ``scoring_info()`` (judge model,
    #: mode, items judged, unparseable replies, cost per item). None for an ordinary score function.
    scored_by: dict[str, Any] | None = field(default=None, repr=False)
    n_runs: int = 1
    reduce: str = "mean"
    #: n_runs > 1: each model's per-run scores of every problem used, in ``problem_order``
    run_scores: dict[str, list[list[float]]] | None = field(default=None, repr=False)
    #: n_runs > 1: per model and for A - B, mean, clustered SE, between-run and between-problem variance
    repeats: dict[str, Any] | None = field(default=None, repr=False)
    resources: Any = field(default=None, repr=False)
    stopping_path: StoppingPath | None = field(default=None, repr=False)

    def plot(self, path: Any = None) -> Any:
        """The stopping path as a matplotlib Figure (saved to ``path``, .png or .svg, when given); needs
        ``pip install "bayesbench[plots]"``. See :func:`bayesbench.plots.stopping_path`."""
        return _plot("stopping_path", self, path)
    # per-item paired scores (aligned with problem_order), for post_results
    scores_a: list[float] = field(default_factory=list, repr=False)
    scores_b: list[float] = field(default_factory=list, repr=False)

    @property
    def efficiency(self) -> float:
        """Fraction of the task's problems that did not need to be evaluated."""
        if self.total_problems == 0:
            return 0.0
        return 1.0 - self.problems_tested / self.total_problems

    @property
    def skipped(self) -> bool:
        """True when the task stopped as non-discriminating (equivalence within the margin)."""
        return self.status == "EQUIVALENT"

    @property
    def winner_name(self) -> str | None:
        """The winning model's display name, or None."""
        if self.winner == "model_a":
            return self.model_a_name
        if self.winner == "model_b":
            return self.model_b_name
        return None

    def summary(self) -> str:
        """Two lines: the verdict with what each number is over, then the cost of getting there."""
        lo, hi = self.ci
        if self.winner is not None:
            verdict = f"winner: {self.winner_name}"
        elif self.status == "EQUIVALENT":
            verdict = "equivalent within the margin (non-discriminating)"
        else:
            verdict = "no winner certified (undecided)"
        n = self.problems_tested
        evaluated = self.model_calls // (2 * self.n_runs)  # each problem asks both models n_runs times
        in_flight = evaluated - n
        overshoot = f"; {in_flight} more were in flight at the stop" if in_flight > 0 else ""
        # the interval is the stopping rule's own: a winner is declared as soon as it excludes 0, so at a
        # stop its near end is close to 0 while P(A>B) (a posterior, reported only) is already near 1
        return (
            f"{self.name}: {verdict} | {self.model_a_name}={self.mean_a:.3f} {self.model_b_name}={self.mean_b:.3f} "
            f"(mean scores over the {n} problems used) | diff={self.difference:+.3f}, {self.confidence:.0%} "
            f"{_INTERVALS.get(self.rule, 'interval')} [{lo:+.3f}, {hi:+.3f}]"
            + (" (it stops as soon as this excludes 0)" if self.winner is not None and self.rule != "fixed" else "")
            + f"\n    {n}/{self.total_problems} problems used ({self.efficiency:.0%} saved){overshoot}; "
            f"{self.model_calls} model calls; stop: {self.stop_reason}; rule={self.rule}, seed={self.seed}; "
            f"P(A>B)={self.p_a_beats_b:.3f} (paired posterior, reported only)"
            + (f"; {self.n_runs} runs per problem, reduced by {self.reduce}" if self.n_runs > 1 else "")
        ) + scored_by_line(self.scored_by) + repeats_line(self.repeats) + usage_lines(self.usage, tasks=(self.name,))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "winner": self.winner,
            "winner_name": self.winner_name,
            "status": self.status,
            "model_a_name": self.model_a_name,
            "model_b_name": self.model_b_name,
            "problems_tested": self.problems_tested,
            "total_problems": self.total_problems,
            "efficiency": self.efficiency,
            "skipped": self.skipped,
            "p_a_beats_b": _finite(self.p_a_beats_b),
            "mean_a": _finite(self.mean_a),
            "mean_b": _finite(self.mean_b),
            "difference": _finite(self.difference),
            "ci": [_finite(self.ci[0]), _finite(self.ci[1])],
            "confidence": self.confidence,
            "e_values": {k: _finite(v) for k, v in self.e_values.items()},
            "stop_reason": self.stop_reason,
            "rule": self.rule,
            "seed": self.seed,
            "model_calls": self.model_calls,
            "errors": self.errors,
            "posterior_a": _posterior_dict(self.posterior_a, self.confidence),
            "posterior_b": _posterior_dict(self.posterior_b, self.confidence),
            "problem_order": list(self.problem_order),
            "usage": self.usage,
            "run_id": self.run_id,
            "resumed": self.resumed,
            "scored_by": self.scored_by,
            "n_runs": self.n_runs,
            "reduce": self.reduce,
            "run_scores": self.run_scores,
            "repeats": _finite_tree(self.repeats),
            "resources": resources_dict(self.resources),
        }


def scored_by_line(scored_by: dict[str, Any] | None) -> str:
    """One line saying the scores came from an LLM judge (empty for an ordinary score function)."""
    if not scored_by:
        return ""
    cost = scored_by.get("cost_per_item_usd")
    line = (f"\n    scores by LLM judge {scored_by.get('judge')!r} ({scored_by.get('mode')}): "
            f"{scored_by.get('judged', 0)} items judged, {scored_by.get('judge_calls', 0)} judge calls "
            f"({scored_by.get('cached_calls', 0)} cached), {scored_by.get('unparseable_replies', 0)} unparseable "
            "replies retried")
    if scored_by.get("position_swapped"):
        line += f", both orders asked ({scored_by.get('ties_from_disagreement', 0)} order disagreements -> ties)"
    if cost is not None:
        line += f", ${cost:.5f} per item"
    return line


_INTERVALS = {
    "anytime": "anytime-valid interval",
    "full_benchmark": "interval for the full-run difference",
    "posterior": "anytime-valid interval (not what rule=posterior stops on)",
    "fixed": "fixed-n interval",
}


def usage_lines(usage: dict[str, Any] | None, tasks: tuple[str, ...] = ()) -> str:
    """Per-model latency, tokens, cost and what stopping early saved, one line each (empty if no calls).

    A name in ``tasks`` is a task function that returns both models' scores: its calls are problems (two
    model calls each) and its "tokens" would be estimated from numbers, so none are shown."""
    if not usage or not usage.get("models"):
        return ""
    savings = usage.get("savings") or {}
    lines = []
    for name, u in usage["models"].items():
        def sec(key: str, u: dict[str, Any] = u) -> str:
            v = u.get(key)
            return "-" if v is None else f"{v:.2f}s"

        task = name in tasks
        cost = u.get("cost_usd")
        calls = u.get("calls", 0)
        what = (f"task function {name!r}: {calls} problems, {2 * calls} model calls" if task
                else f"{name}: {calls} calls")
        line = (f"\n    {what} ({u.get('cached', 0)} cached, {u.get('errors', 0)} errors), "
                f"latency p50/p95/p99 {sec('latency_p50_s')}/{sec('latency_p95_s')}/{sec('latency_p99_s')}")
        counted = bool(u.get("input_tokens") or u.get("output_tokens"))  # numbers, not text: nothing to count
        if counted and not (task and u.get("tokens_estimated")):
            line += (f", tokens in/out {u.get('input_tokens', 0)}/{u.get('output_tokens', 0)}"
                     + (" (estimated)" if u.get("tokens_estimated") else ""))
        priced = ((usage.get("cost") or {}).get("models") or {}).get(name) or {}
        if priced.get("source") == "hardware":  # cost_models: hours of the run x $/h (+ energy)
            line += f", cost ${priced['total_usd']:.4f} (hardware)"
            if priced.get("per_correct_usd") is not None:
                line += f", ${priced['per_correct_usd']:.5f} per correct"
        elif cost is not None:
            line += f", cost ${cost:.4f}"
        saved = savings.get(name)
        if saved:
            unit = "problems" if task else "calls"
            line += f", saved ~{saved['calls_saved']:.0f} {unit} of a full run"
            if saved.get("cost_usd_saved") is not None:
                line += f" (${saved['cost_usd_saved']:.4f})"
        lines.append(line)
    return "".join(lines)


def _posterior_dict(posterior: Any, level: float) -> dict[str, Any] | None:
    if posterior is None:
        return None
    out: dict[str, Any] = {"type": type(posterior).__name__}
    try:
        out["mean"] = _finite(posterior.mean)
        lo, hi = posterior.credible_interval(level)
        out["credible_interval"] = [_finite(lo), _finite(hi)]
    except Exception:  # a user posterior without these is still reported by type
        pass
    return out


@dataclass
class BenchmarkReport:
    """The outcome of a multi-task benchmark: ``task_results`` is the list of :class:`TaskResult`, one per
    task in registration order (``report.task_results[0]``); ``report["name"]`` or ``report.task("name")``
    looks one up by name."""

    task_results: list[TaskResult]
    confidence: float
    correction: str | None = None

    def task(self, name: str) -> TaskResult:
        """The result of the task called ``name``."""
        for result in self.task_results:
            if result.name == name:
                return result
        known = ", ".join(repr(r.name) for r in self.task_results) or "none"
        raise KeyError(f"no task named {name!r} in this report; its tasks are: {known}")

    def __getitem__(self, key: str | int) -> TaskResult:
        return self.task_results[key] if isinstance(key, int) else self.task(key)

    def plot(self, path: Any = None) -> Any:
        """One stopping-path panel per task as a matplotlib Figure (saved to ``path`` when given); see
        :func:`bayesbench.plots.benchmark_report`."""
        return _plot("benchmark_report", self, path)

    @property
    def task_names(self) -> list[str]:
        return [r.name for r in self.task_results]

    @property
    def overall_efficiency(self) -> float:
        """Fraction of all problems (over all tasks) that did not need to be evaluated."""
        total = sum(r.total_problems for r in self.task_results)
        used = sum(r.problems_tested for r in self.task_results)
        return 0.0 if total == 0 else 1.0 - used / total

    @property
    def winners(self) -> dict[str, str | None]:
        return {r.name: r.winner for r in self.task_results}

    @property
    def model_calls(self) -> int:
        return sum(r.model_calls for r in self.task_results)

    @property
    def resources(self) -> Any:
        """CPU, memory and GPU use over all tasks (one :class:`~bayesbench.ops.ResourceReport`, the tasks'
        samples one after the other), or None when no task was monitored."""
        from ..ops._monitor import ResourceReport

        return ResourceReport.merged([r.resources for r in self.task_results])

    def summary(self) -> str:
        lines = [f"bayesbench report: {len(self.task_results)} task(s), confidence {self.confidence:.0%}"
                 + (f", {self.correction} correction across tasks" if self.correction else "")]
        for result in self.task_results:
            lines.append(textwrap.indent(result.summary(), "  "))
        lines.append(f"Overall: {self.overall_efficiency:.0%} of problems saved, {self.model_calls} model calls.")
        return "\n".join(lines)

    def post_results(self, *, model_name: str | None = None, tags: Sequence[str] = (), store: Any = None,
                     url: str | None = None, token: str | None = None, name: str | None = None) -> list[str]:
        """File this result (one run per task) in a store, or send it to a running ``bayesbench serve``; returns
        the run ids, in task order.

        ``store``: a :class:`~bayesbench.store.Store`, a SQLite path or a database URL (``"postgresql+psycopg://..."``);
        default ``"bayesbench.sqlite"`` in the working directory (the store's own default). ``url``: a
        ``bayesbench serve`` address (``"http://127.0.0.1:8765"``) to ``POST /api/runs`` to, with ``token`` (default:
        the ``BAYESBENCH_TOKEN`` environment variable). ``model_name``: the model the run is filed under (default:
        the result's own model names); ``tags``: labels to filter by (``["nightly", "v2.1"]``); ``name``: the run's
        name (default: each task's name; with ``name``, ``"name/task"``). Writes the run, its per-item scores, the
        stopping path, usage and resources; posting the same result again (same ``model_name`` and ``name``) files
        it once; tags accumulate.
        """
        from ..store._post import post_result

        return [post_result(r, model_name=model_name, tags=tags, store=store, url=url, token=token,
                            name=None if name is None else f"{name}/{r.name}") for r in self.task_results]

    def to_dict(self) -> dict[str, Any]:
        # keyed by task name in JSON (the CLI's --json), in registration order
        return {
            "confidence": self.confidence,
            "correction": self.correction,
            "overall_efficiency": self.overall_efficiency,
            "winners": self.winners,
            "model_calls": self.model_calls,
            "task_results": {r.name: r.to_dict() for r in self.task_results},
        }

    def to_dataframe(self) -> Any:
        rows = []
        for result in self.task_results:
            row = result.to_dict()
            for key in ("posterior_a", "posterior_b", "problem_order", "usage", "e_values", "ci", "resources"):
                row.pop(key)
            row["ci_low"], row["ci_high"] = result.ci
            rows.append(row)
        return _dataframe(rows, "BenchmarkReport.to_dataframe()")


@dataclass
class RankedModel:
    """One model's place in a ranking. ``ci`` is a credible interval of its mean score at the run's level."""

    rank: int
    name: str
    score: float
    ci: tuple[float, float]
    problems_tested: int
    p_beats_next: float | None
    next_model: str | None


@dataclass
class RankingResult(PostResults):
    """The outcome of ranking several models.

    ``claims`` are the pairwise "better than" statements that are statistically established
    (family-wise error ≤ 1 − confidence over all of them); ``tie_groups`` are the runs of
    neighbouring models the data could not separate.
    """

    ranking: list[RankedModel]
    claims: list[tuple[str, str]]
    tie_groups: list[list[str]]
    confidence: float
    rule: str
    goal: str
    seed: int
    calls_used: int
    calls_exhaustive: int
    total_problems: int
    stop_reason: str
    pairwise: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    usage: dict[str, Any] | None = field(default=None, repr=False)
    run_id: str | None = None
    #: An LLM judge's ``scoring_info()`` when the scores came from one (see TaskResult.scored_by), else None.
    scored_by: dict[str, Any] | None = field(default=None, repr=False)
    n_runs: int = 1
    reduce: str = "mean"
    #: n_runs > 1: each model's per-run scores of every problem it answered (by problem index)
    run_scores: dict[str, list[list[float]]] | None = field(default=None, repr=False)
    #: n_runs > 1: per model, mean, clustered SE, between-run and between-problem variance
    repeats: dict[str, Any] | None = field(default=None, repr=False)
    resources: Any = field(default=None, repr=False)
    #: ``{model: {problem_id: score}}``, for post_results
    item_scores: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    @property
    def efficiency(self) -> float:
        """Fraction of the exhaustive model calls that were not needed."""
        return 0.0 if self.calls_exhaustive == 0 else 1.0 - self.calls_used / self.calls_exhaustive

    @property
    def order(self) -> list[str]:
        return [m.name for m in self.ranking]

    def plot(self, path: Any = None) -> Any:
        """Scores with intervals, tie groups and certified claims as a matplotlib Figure (saved to ``path``
        when given); see :func:`bayesbench.plots.ranking`."""
        return _plot("ranking", self, path)

    def summary(self) -> str:
        level = f"{self.confidence:.0%}"
        lines = []
        for m in self.ranking:
            line = f"Rank {m.rank}: {m.name}  score={m.score:.3f}  {level}CI=[{m.ci[0]:.3f}, {m.ci[1]:.3f}]"
            if m.next_model is not None and m.p_beats_next is not None:
                line += f"  P(>{m.next_model})={m.p_beats_next:.3f}"
            lines.append(line)
        established = ", ".join(f"{a} > {b}" for a, b in self.claims) or "none"
        lines.append(f"Established at {level} (family-wise): {established}")
        ties = [g for g in self.tie_groups if len(g) > 1]
        if ties:
            lines.append("Not separated: " + "; ".join(" ~ ".join(g) for g in ties))
        lines.append(
            f"Calls: {self.calls_used} of {self.calls_exhaustive} exhaustive ({self.efficiency:.0%} saved), "
            f"stop: {self.stop_reason}, rule={self.rule}, goal={self.goal}, seed={self.seed}"
            + (f", {self.n_runs} runs per problem reduced by {self.reduce}" if self.n_runs > 1 else "")
        )
        return "\n".join(lines) + scored_by_line(self.scored_by) + repeats_line(self.repeats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ranking": [
                {
                    "rank": m.rank,
                    "name": m.name,
                    "score": _finite(m.score),
                    "ci": [_finite(m.ci[0]), _finite(m.ci[1])],
                    "problems_tested": m.problems_tested,
                    "p_beats_next": _finite(m.p_beats_next),
                    "next_model": m.next_model,
                }
                for m in self.ranking
            ],
            "claims": [list(c) for c in self.claims],
            "tie_groups": self.tie_groups,
            "confidence": self.confidence,
            "rule": self.rule,
            "goal": self.goal,
            "seed": self.seed,
            "calls_used": self.calls_used,
            "calls_exhaustive": self.calls_exhaustive,
            "efficiency": self.efficiency,
            "total_problems": self.total_problems,
            "stop_reason": self.stop_reason,
            "pairwise": self.pairwise,
            "usage": self.usage,
            "run_id": self.run_id,
            "scored_by": self.scored_by,
            "n_runs": self.n_runs,
            "reduce": self.reduce,
            "run_scores": self.run_scores,
            "repeats": _finite_tree(self.repeats),
            "resources": resources_dict(self.resources),
        }

    def to_dataframe(self) -> Any:
        rows = [
            {
                "rank": m.rank,
                "model": m.name,
                "score": m.score,
                "ci_low": m.ci[0],
                "ci_high": m.ci[1],
                "problems_tested": m.problems_tested,
                "p_beats_next": m.p_beats_next,
            }
            for m in self.ranking
        ]
        return _dataframe(rows, "RankingResult.to_dataframe()")


def verdict_to_winner(status: str) -> str | None:
    return _VERDICTS.get(status)


def e_values_from_log(log_e: dict[str, float]) -> dict[str, float]:
    return _e_values(log_e)
