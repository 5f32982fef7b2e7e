"""A ranking (scores with intervals, tie groups, certified claims) and a suite's per-task scores."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ._mpl import COLOURS, finish, new_figure, wrap


def _ranking_dict(result: Any) -> dict[str, Any]:
    d = result.to_dict() if hasattr(result, "to_dict") else result
    if not isinstance(d, dict) or not isinstance(d.get("ranking"), list) or not d["ranking"]:
        raise ConfigError(
            f"`result` must be a RankingResult (or its to_dict()) with at least one ranked model, got "
            f"{type(result).__name__}"
        )
    return d


def ranking(result: Any, *, path: Any = None, title: str | None = None) -> Any:
    """A RankingResult as a matplotlib Figure: one row per model in rank order, its mean score with the
    run's credible interval; a dotted "≈" link joins neighbours of a tie group (no claim separates them); the
    right column lists, for each model, the models it is certified better than (family-wise at the run's
    level). ``result`` may also be ``RankingResult.to_dict()`` (e.g. a stored run's summary)."""
    d = _ranking_dict(result)
    rows = d["ranking"]
    names = [r["name"] for r in rows]
    y = {name: -i for i, name in enumerate(names)}
    fig = new_figure(10.0, 1.8 + 0.45 * len(rows))
    ax = fig.subplots()
    score_of = {r["name"]: r["score"] for r in rows}
    for group in d.get("tie_groups") or []:
        # neighbours in a tie group are not separated by any claim: a dotted link and a "≈" between them
        for upper, lower in zip(group, group[1:]):
            if upper in y and lower in y:
                xs, ys_ = [score_of[upper], score_of[lower]], [y[upper], y[lower]]
                ax.plot(xs, ys_, color="grey", ls=":", lw=1.2, gid="tie")
                ax.text(sum(xs) / 2, sum(ys_) / 2, " ≈", color="dimgrey", va="center", ha="left", fontsize="large")
    ys = [y[n] for n in names]
    # the interval is the run's credible interval of the model's mean: the raw mean can lie just outside it
    # (e.g. a model right on every problem), so the two are drawn separately rather than as error bars
    ax.hlines(ys, [r["ci"][0] for r in rows], [r["ci"][1] for r in rows], color=COLOURS[0], lw=2.5, alpha=0.6,
              gid="intervals", label=f"{d['confidence']:.0%} interval")
    ax.plot([r["score"] for r in rows], ys, "o", color=COLOURS[0], gid="scores", label="mean score")
    ax.set_yticks([y[n] for n in names])
    ax.set_yticklabels([f"#{r['rank']} {r['name']}  (n={r['problems_tested']})" for r in rows])
    rank_of = {r["name"]: r["rank"] for r in rows}
    beats: dict[str, list[int]] = {n: [] for n in names}
    for better, worse in d.get("claims") or []:
        if better in beats and worse in rank_of:
            beats[better].append(rank_of[worse])
    # the certified claims as right-hand tick labels (by rank, so long names stay readable)
    right = ax.twinx()
    right.set_ylim(-len(rows) + 0.4, 0.6)
    right.set_yticks([y[n] for n in names])
    right.set_yticklabels([("> " + ", ".join(f"#{k}" for k in sorted(beats[n]))) if beats[n] else "—"
                           for n in names], fontsize="small")
    right.set_ylabel("certified better than (ranks)", fontsize="small")
    right.set_gid("claims")
    ax.set_xlabel("score")
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    ax.grid(axis="x", alpha=0.3)
    n_claims = len(d.get("claims") or [])
    ax.set_title(wrap(
        title or f"ranking: {n_claims} certified claim(s) at {d['confidence']:.0%} (family-wise)\n"
        f"{d.get('calls_used')} of {d.get('calls_exhaustive')} calls, stop: {d.get('stop_reason')}, "
        f"rule={d.get('rule')}, seed={d.get('seed')}"),
        fontsize="medium",
    )
    handles, labels = ax.get_legend_handles_labels()
    if any(len(g) > 1 for g in d.get("tie_groups") or []):
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="grey", ls=":", lw=1.2))
        labels.append("≈ neighbours not separated (a tie group)")
    fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize="small")
    return finish(fig, path)


def task_scores(result: Any, *, path: Any = None, title: str | None = None) -> Any:
    """A suite's BenchmarkResult: the headline score and each task's score with its interval."""
    estimates = getattr(result, "task_scores", None)
    overall = getattr(result, "overall_accuracy", None)
    if estimates is None or overall is None:
        raise ConfigError(f"`result` must be a BenchmarkResult (a suite's evaluate()), got {type(result).__name__}")
    items = [("overall", overall)] + list(estimates.items())
    fig = new_figure(8.0, 1.2 + 0.4 * len(items))
    ax = fig.subplots()
    ys = [-i for i in range(len(items))]
    values = [e.value for _, e in items]
    ax.errorbar(values, ys, xerr=[[e.value - e.ci[0] for _, e in items], [e.ci[1] - e.value for _, e in items]],
                fmt="o", color=COLOURS[0], capsize=3, gid="scores")
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{name} (n={e.n})" for name, e in items])
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"{result.primary_metric} ({overall.level:.0%} {overall.method} interval)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(wrap(title or f"{result.benchmark} — {result.model_name}: {overall!r}"), fontsize="medium")
    return finish(fig, path)
