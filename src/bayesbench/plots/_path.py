"""The stopping path of a two-model comparison: e-values against the threshold, and the confidence sequence
for the gap narrowing, against the problems used, with the stop marked."""

from __future__ import annotations

import math
from typing import Any

from ..errors import ConfigError
from ._mpl import COLOURS, finish, new_figure, wrap

_VERDICT = {"A": "{a} wins", "B": "{b} wins", "EQUIVALENT": "equivalent", "UNDECIDED": "undecided"}


def _task_result(result: Any) -> Any:
    """A TaskResult, or the ``task_result`` of a suite's head-to-head."""
    inner = getattr(result, "task_result", None)
    if inner is not None and getattr(result, "stopping_path", None) is None:
        result = inner
    if not hasattr(result, "stopping_path") or not hasattr(result, "problems_tested"):
        raise ConfigError(
            f"`result` must be a TaskResult (from compare(), a @benchmark task or a suite's head-to-head), got "
            f"{type(result).__name__}"
        )
    if result.stopping_path is None or len(result.stopping_path) == 0:
        raise ConfigError(
            f"task {result.name!r} has no stopping path (no batch was fed to the engine); for a run in a store use "
            "bayesbench.plots.stored_run(store, run_id), which replays its recorded scores"
        )
    return result


def _e(log_e: list[float]) -> list[float]:
    return [math.exp(min(x, 700.0)) for x in log_e]  # finite, like TaskResult.e_values


def draw_path(ax_e: Any, ax_cs: Any, result: Any, *, legend: bool = True) -> None:
    """Draw ``result``'s stopping path on two axes that share the x axis (problems used)."""
    p = result.stopping_path
    a, b = result.model_a_name, result.model_b_name
    ax_e.plot(p.n, _e(p.log_e_a), color=COLOURS[0], marker=".", ms=3, lw=1.5, label=f"{a} better than {b}",
              gid="e_a")
    ax_e.plot(p.n, _e(p.log_e_b), color=COLOURS[1], marker=".", ms=3, lw=1.5, label=f"{b} better than {a}",
              gid="e_b")
    threshold = math.exp(p.log_threshold)
    alpha = 1.0 - p.confidence
    ax_e.axhline(threshold, color="black", ls="--", lw=1, gid="threshold",
                 label=f"threshold 2/α = {threshold:.0f} (α = {alpha:.2g}, each direction at α/2)")
    ax_e.axhline(1.0, color="grey", lw=0.6)
    ax_e.set_yscale("log")
    ax_e.set_ylabel("e-value (evidence)")
    stop_n = result.problems_tested
    top = max(max(_e(p.log_e_a)), max(_e(p.log_e_b)), threshold)
    ax_e.set_ylim(min(0.5, *_e(p.log_e_a), *_e(p.log_e_b)) * 0.8, top * 3)
    verdict = _VERDICT.get(result.status, result.status.lower()).format(a=a, b=b)
    for ax in (ax_e, ax_cs):
        ax.axvline(stop_n, color=COLOURS[3], lw=1.2, ls=":", gid="stop")
    winner_e = p.log_e_a if result.status == "A" else p.log_e_b if result.status == "B" else None
    if winner_e is not None:
        ax_e.plot([stop_n], [math.exp(min(winner_e[-1], 700.0))], marker="*", ms=12, color=COLOURS[3], ls="none",
                  gid="stop_marker", label=f"stop: {verdict} at n = {stop_n}")
    else:
        ax_e.plot([], [], color=COLOURS[3], ls=":", label=f"stop: {verdict} at n = {stop_n} ({result.stop_reason})")
    if legend:
        ax_e.legend(loc="upper left", fontsize="small", framealpha=0.9)

    what = " for the full-run difference" if p.rule == "full_benchmark" else ""
    ax_cs.fill_between(p.n, p.cs_low, p.cs_high, color=COLOURS[2], alpha=0.25, lw=0, gid="cs",
                       label=f"{p.confidence:.0%} confidence sequence{what}")
    ax_cs.plot(p.n, p.estimate, color=COLOURS[2], lw=1.5, gid="estimate", label=f"mean difference {a} − {b}")
    ax_cs.axhline(0.0, color="black", lw=0.8)
    ax_cs.plot([stop_n], [result.difference], marker="*", ms=12, color=COLOURS[3], ls="none", gid="stop_diff")
    ax_cs.set_ylabel(f"{a} − {b}")
    ax_cs.set_xlabel("problems used")
    if legend:
        ax_cs.legend(loc="upper right", fontsize="small", framealpha=0.9)


def _title(result: Any) -> str:
    a, b = result.model_a_name, result.model_b_name
    verdict = _VERDICT.get(result.status, result.status.lower()).format(a=a, b=b)
    head = f"{a} vs {b}" if result.name == f"{a} vs {b}" else f"{result.name}: {a} vs {b}"
    return (f"{head} — {verdict} after {result.problems_tested} of "
            f"{result.total_problems} problems (rule={result.rule}, seed={result.seed})")


def stopping_path(result: Any, *, path: Any = None, title: str | None = None) -> Any:
    """The stopping path of a two-model comparison as a matplotlib Figure.

    Top: the e-values of both directions ("A better than B", "B better than A"; log scale) against the
    threshold 2/alpha a direction must reach. Bottom: the anytime-valid confidence sequence for the mean
    difference A − B narrowing, with its point estimate; the stop (``result.problems_tested``) is marked on both.
    ``result`` is a TaskResult (or a suite's head-to-head); ``path`` (.png or .svg) saves the figure;
    ``title`` replaces the default one.
    """
    result = _task_result(result)
    fig = new_figure(8.0, 6.0)
    ax_e, ax_cs = fig.subplots(2, 1, sharex=True)
    draw_path(ax_e, ax_cs, result)
    fig.suptitle(wrap(title or _title(result)), fontsize="medium")
    return finish(fig, path)


def benchmark_report(report: Any, *, path: Any = None, title: str | None = None) -> Any:
    """One stopping-path panel per task of a BenchmarkReport (e-values left, confidence sequence right)."""
    tasks = getattr(report, "task_results", None)
    if tasks is None:
        raise ConfigError(f"`report` must be a BenchmarkReport, got {type(report).__name__}")
    tasks = [_task_result(r) for r in tasks]
    if not tasks:
        raise ConfigError("the report has no tasks to draw")
    fig = new_figure(12.0, 0.6 + 3.0 * len(tasks))
    axes = fig.subplots(len(tasks), 2, squeeze=False)
    for row, result in zip(axes, tasks):
        ax_e, ax_cs = row
        ax_cs.sharex(ax_e)
        draw_path(ax_e, ax_cs, result)
        ax_e.set_xlabel("problems used")
        ax_e.set_title(wrap(_title(result), 70), fontsize="small", loc="left")
    fig.suptitle(wrap(title or f"bayesbench report: {len(tasks)} task(s), confidence {report.confidence:.0%}"),
                 fontsize="medium")
    return finish(fig, path)
