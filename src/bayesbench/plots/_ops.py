"""Operational pictures: latency distributions per model, the cost vs accuracy frontier, resource use over time."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ._mpl import COLOURS, finish, new_figure, wrap

LATENCY_KINDS = ("ecdf", "violin")


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of an already sorted list."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _latency_lists(latencies: Any) -> dict[str, list[float]]:
    if not isinstance(latencies, Mapping) or not latencies:
        raise ConfigError("`latencies` must be a non-empty mapping model -> sequence of seconds, e.g. "
                          "{'smollm2': [0.21, 0.25], 'gemma': [0.4, 0.38]}")
    out = {}
    for model, values in latencies.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) and not hasattr(values, "__iter__"):
            raise ConfigError(f"latencies of {model!r} must be a sequence of seconds, got {type(values).__name__}")
        try:
            xs = sorted(float(v) for v in values)
        except (TypeError, ValueError):
            raise ConfigError(f"latencies of {model!r} must be numbers of seconds") from None
        if not xs:
            raise ConfigError(f"latencies of {model!r} are empty: give at least one call's latency")
        bad = [x for x in xs if not (math.isfinite(x) and x > 0)]
        if bad:
            raise ConfigError(f"latencies of {model!r} must be positive finite seconds, got {bad[0]!r}")
        out[str(model)] = xs
    return out


def latency(latencies: Mapping[str, Sequence[float]], *, kind: str = "ecdf", path: Any = None,
            title: str | None = None) -> Any:
    """Per-call latency distributions, one per model, on a log time axis, as a matplotlib Figure.

    ``latencies`` maps a model name to its calls' latencies in seconds (e.g. the store's ``calls`` table,
    live calls only). ``kind="ecdf"`` (default) draws each model's empirical CDF with its p50 and p95 in the
    legend; ``kind="violin"`` draws one violin per model (of log10 seconds). ``path`` (.png/.svg) saves it.
    """
    if kind not in LATENCY_KINDS:
        raise ConfigError(f"`kind` must be one of {', '.join(repr(k) for k in LATENCY_KINDS)}, got {kind!r}")
    data = _latency_lists(latencies)
    fig = new_figure(8.0, 4.5 if kind == "ecdf" else 1.5 + 0.8 * len(data))
    ax = fig.subplots()
    if kind == "ecdf":
        for i, (model, xs) in enumerate(data.items()):
            n = len(xs)
            ax.step(xs, [(k + 1) / n for k in range(n)], where="post", color=COLOURS[i % len(COLOURS)], lw=1.6,
                    gid="ecdf", label=f"{model} (n={n}, p50 {_quantile(xs, 0.5):.3g}s, p95 {_quantile(xs, 0.95):.3g}s)")
        ax.set_xscale("log")
        _plain_seconds(ax.xaxis)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("fraction of calls at most this slow")
        ax.legend(loc="lower right", fontsize="small")
    else:
        names = list(data)
        logs = [[math.log10(x) for x in data[m]] for m in names]
        parts = ax.violinplot(logs, positions=list(range(len(names))), orientation="horizontal", showmedians=True)
        for i, body in enumerate(parts["bodies"]):
            body.set_facecolor(COLOURS[i % len(COLOURS)])
            body.set_gid("violin")
        ax.set_yticks(list(range(len(names))))
        ax.set_yticklabels([f"{m} (n={len(data[m])})" for m in names])
        ax.xaxis.set_major_formatter(_seconds_from_log10())
    ax.set_xlabel("latency per call, seconds (log scale)")
    ax.grid(alpha=0.3)
    ax.set_title(wrap(title or "latency per call"), fontsize="medium")
    return finish(fig, path)


def _plain_seconds(axis: Any) -> None:
    """Log-axis ticks as plain seconds (0.1, 0.2, 0.5, 1, 2, 5, ...), not 2x10^-1."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _pos: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))


def _seconds_from_log10() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{10 ** v:.3g}")


_POINT_KEYS = ("model", "accuracy", "accuracy_low", "accuracy_high", "cost_per_1000")


def _number(point: Mapping[str, Any], key: str) -> float | None:
    v = point.get(key)
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"point {point.get('model')!r}: `{key}` must be a number or None, got {v!r}") from None
    return x if math.isfinite(x) else None


def frontier(points: Sequence[Mapping[str, Any]]) -> list[str]:
    """The models on the cost/accuracy Pareto frontier (no other model is at most as costly and at least as
    accurate, one of them strictly), cheapest first."""
    pts = [(float(p["cost_per_1000"]), float(p["accuracy"]), str(p["model"])) for p in points]
    out = []
    for c, a, m in sorted(pts, key=lambda t: (t[0], -t[1])):
        dominated = any(c2 <= c and a2 >= a and (c2 < c or a2 > a) for c2, a2, _ in pts)
        if not dominated:
            out.append(m)
    return out


def cost_accuracy(points: Sequence[Mapping[str, Any]], *, path: Any = None, title: str | None = None) -> Any:
    """Cost per 1 000 problems against accuracy, one point per model with its accuracy interval, and the
    Pareto frontier (the models no other beats on both), as a matplotlib Figure.

    ``points``: a list of dicts with keys ``model``, ``accuracy``, ``accuracy_low``, ``accuracy_high``,
    ``cost_per_1000`` (dollars) and optionally ``latency_p50_s``, ``latency_p95_s``, ``throughput_rps``
    (shown in the label), e.g. ``DeploymentReport.to_dict()["models"]``; a dict ``{model: {...}}`` works too. A model without a cost or an
    accuracy cannot be placed: it is named under the figure instead.
    """
    if isinstance(points, Mapping) and all(isinstance(v, Mapping) for v in points.values()):
        points = [{"model": name, **v} for name, v in points.items()]  # {model: {...}} is accepted too
    if isinstance(points, Mapping) or not isinstance(points, Sequence) or not points:
        raise ConfigError("`points` must be a non-empty list of dicts with keys " + ", ".join(_POINT_KEYS))
    placed, missing = [], []
    for p in points:
        if not isinstance(p, Mapping) or "model" not in p:
            raise ConfigError(f"every point must be a dict with keys {', '.join(_POINT_KEYS)}, got {p!r}")
        cost, acc = _number(p, "cost_per_1000"), _number(p, "accuracy")
        if cost is None or acc is None:
            missing.append(str(p["model"]))
            continue
        if cost < 0:
            raise ConfigError(f"point {p['model']!r}: `cost_per_1000` must be >= 0 dollars, got {cost!r}")
        lo, hi = _number(p, "accuracy_low"), _number(p, "accuracy_high")
        placed.append({**p, "cost_per_1000": cost, "accuracy": acc,
                       "accuracy_low": acc if lo is None else lo, "accuracy_high": acc if hi is None else hi})
    if not placed:
        raise ConfigError("no point has both `accuracy` and `cost_per_1000`: nothing to draw "
                          f"(models: {', '.join(missing)}); give local models a hardware $/hour to cost them")
    fig = new_figure(8.0, 5.0)
    ax = fig.subplots()
    for i, p in enumerate(placed):
        extra = []
        if _number(p, "latency_p50_s") is not None:
            extra.append(f"p50 {float(p['latency_p50_s']):.3g}s")
        if _number(p, "latency_p95_s") is not None:
            extra.append(f"p95 {float(p['latency_p95_s']):.3g}s")
        if _number(p, "throughput_rps") is not None:
            extra.append(f"{float(p['throughput_rps']):.3g} req/s")
        label = f"{p['model']} (${p['cost_per_1000']:.3g}/1000" + (", " + ", ".join(extra) if extra else "") + ")"
        ax.errorbar([p["cost_per_1000"]], [p["accuracy"]],
                    yerr=[[p["accuracy"] - p["accuracy_low"]], [p["accuracy_high"] - p["accuracy"]]],
                    fmt="o", ms=7, capsize=4, color=COLOURS[i % len(COLOURS)], gid="model", label=label)
        ax.annotate(str(p["model"]), (p["cost_per_1000"], p["accuracy"]), xytext=(6, 6),
                    textcoords="offset points", fontsize="small")
    best = frontier(placed)
    by_model = {str(p["model"]): p for p in placed}
    fx = [by_model[m]["cost_per_1000"] for m in best]
    fy = [by_model[m]["accuracy"] for m in best]
    ax.step(fx, fy, where="post", color="black", ls="--", lw=1, gid="frontier", label="frontier (not beaten on both)")
    costs = [p["cost_per_1000"] for p in placed]
    if min(costs) > 0 and max(costs) / min(costs) > 20:
        ax.set_xscale("log")
    ax.set_xlabel("cost per 1 000 problems (USD)")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    note = f"\nnot shown (no cost or accuracy): {', '.join(missing)}" if missing else ""
    ax.set_title(wrap((title or "cost vs accuracy") + note), fontsize="medium")
    return finish(fig, path)


def _series(samples: list[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    ts, vs = [], []
    for s in samples:
        v = s.get(key)
        if v is not None and s.get("t_s") is not None:
            ts.append(float(s["t_s"]))
            vs.append(float(v))
    return ts, vs


def resources(report: Mapping[str, Any], *, path: Any = None, title: str | None = None) -> Any:
    """Resource use over a run as a matplotlib Figure: CPU % (the process and the whole system), resident
    memory, and GPU utilisation and memory when there are GPU samples.

    ``report`` is the resource monitor's dict: ``{"interval_s", "samples": [{"t_s", "process_cpu_percent",
    "system_cpu_percent", "rss_bytes", "gpu_util_percent", "gpu_memory_bytes"}], "peak_rss_bytes",
    "mean_process_cpu_percent", "gpu"}`` (missing values are None).
    """
    samples = report.get("samples") if isinstance(report, Mapping) else None
    if not isinstance(samples, list) or not samples:
        raise ConfigError("`report` must be a resource monitor's dict with a non-empty `samples` list, e.g. "
                          "{'interval_s': 0.5, 'samples': [{'t_s': 0.5, 'process_cpu_percent': 12.0, ...}]}")
    gpu = any(s.get("gpu_util_percent") is not None or s.get("gpu_memory_bytes") is not None for s in samples)
    fig = new_figure(8.0, 6.5 if gpu else 4.8)
    axes = fig.subplots(3 if gpu else 2, 1, sharex=True)
    ax_cpu, ax_mem = axes[0], axes[1]
    for key, label, colour in (("process_cpu_percent", "this process", COLOURS[0]),
                               ("system_cpu_percent", "whole system", COLOURS[7])):
        ts, vs = _series(samples, key)
        if ts:
            ax_cpu.plot(ts, vs, color=colour, lw=1.4, label=label, gid=key)
    ax_cpu.set_ylabel("CPU %")
    ax_cpu.legend(loc="upper right", fontsize="small")
    ts, vs = _series(samples, "rss_bytes")
    ax_mem.plot(ts, [v / 2**20 for v in vs], color=COLOURS[2], lw=1.4, gid="rss_bytes", label="resident memory")
    ax_mem.set_ylabel("RSS (MiB)")
    if gpu:
        ax_gpu = axes[2]
        ts, vs = _series(samples, "gpu_util_percent")
        ax_gpu.plot(ts, vs, color=COLOURS[3], lw=1.4, gid="gpu_util_percent", label="GPU utilisation %")
        ax_gpu.set_ylabel("GPU %")
        ts, vs = _series(samples, "gpu_memory_bytes")
        if ts:
            twin = ax_gpu.twinx()
            twin.plot(ts, [v / 2**20 for v in vs], color=COLOURS[4], lw=1.2, ls="--", gid="gpu_memory_bytes")
            twin.set_ylabel("GPU memory (MiB)")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("seconds since the run started")
    parts = []
    if report.get("peak_rss_bytes") is not None:
        parts.append(f"peak RSS {float(report['peak_rss_bytes']) / 2**20:.0f} MiB")
    if report.get("mean_process_cpu_percent") is not None:
        parts.append(f"mean CPU {float(report['mean_process_cpu_percent']):.0f}%")
    if report.get("interval_s") is not None:
        parts.append(f"sampled every {float(report['interval_s']):.3g}s")
    g = report.get("gpu")
    parts.append("no GPU data" if not gpu else f"GPU: {g.get('name', g) if isinstance(g, Mapping) else g}")
    fig.suptitle(wrap((title or "resource use") + " — " + ", ".join(parts)), fontsize="medium")
    return finish(fig, path)
