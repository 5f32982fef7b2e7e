"""Latency and throughput per model, read from the executor's usage aggregates (execution/_usage.py).

Nothing is counted twice: the percentiles, sd, time to first token and tokens/s are the
:class:`~bayesbench.execution.ModelUsage` figures; this module adds requests/s in windows of the run
(from the usage timeline) and one table to read them in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

#: the per-model figures a LatencyReport shows, in order (``ModelUsage`` attribute names)
FIGURES = ("calls", "errors", "retries", "latency_p50_s", "latency_p90_s", "latency_p95_s", "latency_p99_s",
           "latency_mean_s", "latency_sd_s", "ttft_p50_s", "ttft_mean_s", "ttft_p95_s", "throughput_per_s",
           "output_tokens_per_s", "tokens_per_s_per_request")


@dataclass(frozen=True)
class ModelLatency:
    """One model's latency and throughput. ``requests_per_s`` is over the run's wall time (``throughput_per_s``
    of the usage); ``windows`` are ``{"start_s", "end_s", "requests", "errors", "requests_per_s",
    "output_tokens_per_s"}`` dicts of ``window_s`` seconds each, from the first call's end."""

    model: str
    figures: dict[str, Any]
    window_s: float
    windows: list[dict[str, Any]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        figures = self.__dict__.get("figures", {})
        if name in figures:
            return figures[name]
        raise AttributeError(name)

    @property
    def peak_requests_per_s(self) -> float | None:
        """The busiest full window's requests/s (None without a full window)."""
        full = [w["requests_per_s"] for w in self.windows if w["end_s"] - w["start_s"] >= self.window_s - 1e-9]
        return max(full) if full else None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, **self.figures, "requests_per_s": self.figures.get("throughput_per_s"),
                "peak_requests_per_s": self.peak_requests_per_s, "window_s": self.window_s,
                "windows": [dict(w) for w in self.windows]}


def _windows(timeline: list[tuple[int, int, int, int]], window_s: float, bucket_s: float) -> list[dict[str, Any]]:
    if not timeline:
        return []
    per = max(1, int(round(window_s / bucket_s)))
    last = timeline[-1][0]
    out = []
    grouped: dict[int, list[int]] = {}
    for second, calls, errors, tokens in timeline:
        g = grouped.setdefault(second // per, [0, 0, 0])
        g[0] += calls
        g[1] += errors
        g[2] += tokens
    for w in range(last // per + 1):
        calls, errors, tokens = grouped.get(w, [0, 0, 0])
        start = w * per * bucket_s
        end = min((w + 1) * per, last + 1) * bucket_s
        span = end - start
        out.append({"start_s": start, "end_s": end, "requests": calls, "errors": errors,
                    "requests_per_s": calls / span, "output_tokens_per_s": tokens / span})
    return out


@dataclass(frozen=True)
class LatencyReport:
    """Per-model :class:`ModelLatency` (``report.models[name]``) over one run or one executor."""

    models: dict[str, ModelLatency]
    wall_time_s: float | None
    window_s: float
    method: str = "executor usage aggregates (exact percentiles up to 4096 calls, then 0.5 % relative error)"

    def to_dict(self) -> dict[str, Any]:
        return {"wall_time_s": self.wall_time_s, "window_s": self.window_s, "method": self.method,
                "models": {m: v.to_dict() for m, v in self.models.items()}}

    def to_dataframe(self) -> Any:
        from ..engine._results import _dataframe

        rows = []
        for m in self.models.values():
            row = m.to_dict()
            row.pop("windows")
            rows.append(row)
        return _dataframe(rows, "LatencyReport.to_dataframe()")

    def summary(self) -> str:
        def s(v: Any) -> str:
            return "-" if v is None else f"{v:.3f}"

        lines = [f"latency per model (wall time {s(self.wall_time_s)} s; windows of {self.window_s:g} s)"]
        for m in self.models.values():
            f = m.figures
            lines.append(
                f"  {m.model}: {f['calls']} calls, {f['errors']} errors, {f['retries']} retries | latency s "
                f"p50 {s(f['latency_p50_s'])} p90 {s(f['latency_p90_s'])} p95 {s(f['latency_p95_s'])} "
                f"p99 {s(f['latency_p99_s'])} mean {s(f['latency_mean_s'])} sd {s(f['latency_sd_s'])} | "
                f"TTFT p50 {s(f['ttft_p50_s'])} | {s(f['throughput_per_s'])} req/s (peak window "
                f"{s(m.peak_requests_per_s)}) | {s(f['output_tokens_per_s'])} tok/s")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def latency_report(source: Any, *, window_s: float = 10.0, run_id: str | None = None) -> LatencyReport:
    """Latency and throughput per model.

    ``source``: an :class:`~bayesbench.execution.Executor`, a :class:`~bayesbench.execution.UsageReport`,
    a result whose ``usage`` came from a run (TaskResult, RankingResult), a Store with ``run_id``, or an
    iterable of CallRecords / ``Store.calls()`` rows. ``window_s``: width of the requests/s windows
    (default 10 s; rounded to whole seconds of the usage timeline).
    """
    from ..execution import UsageReport

    if isinstance(window_s, bool) or not isinstance(window_s, (int, float)) or not (math.isfinite(window_s)
                                                                                    and window_s >= 1):
        raise ConfigError(f"`window_s` must be a number of seconds >= 1, got {window_s!r}")
    report: Any
    if isinstance(source, UsageReport):
        report = source
    elif hasattr(source, "usage_summary"):
        report = source.usage_summary()
    elif hasattr(source, "calls") and hasattr(source, "record_call"):  # a Store
        if run_id is None:
            raise ConfigError("`run_id` is needed to read latency from a Store, e.g. latency_report(store, "
                              "run_id=result.run_id)")
        rows = source.calls(run_id)
        report = UsageReport.from_records(rows, wall_time_s=_rows_wall(rows))
    elif isinstance(source, Iterable) and not isinstance(source, (str, bytes, Mapping)):
        records = list(source)
        report = UsageReport.from_records(records, wall_time_s=_rows_wall(records))
    else:
        usage = getattr(source, "usage", None)
        if isinstance(usage, Mapping):
            return _from_usage_dict(usage, window_s)
        raise ConfigError(f"`source` must be an Executor, a UsageReport, a run result, a Store (with run_id) or "
                          f"call records, got {type(source).__name__}")
    bucket = 1.0
    models = {name: ModelLatency(model=name, figures={k: getattr(u, k) for k in FIGURES}, window_s=float(window_s),
                                 windows=_windows(report.timeline.get(name, []), window_s, bucket))
              for name, u in report.models.items()}
    return LatencyReport(models=models, wall_time_s=report.wall_time_s, window_s=float(window_s))


def _rows_wall(rows: list[Any]) -> float | None:
    """A stored run's wall time: first call's start (end - latency) to the last call's end."""
    spans = []
    for r in rows:
        created = r.get("created") if isinstance(r, Mapping) else getattr(r, "created", None)
        latency = r.get("latency_s") if isinstance(r, Mapping) else getattr(r, "latency_s", None)
        if created is not None:
            spans.append((float(created) - float(latency or 0.0), float(created)))
    if not spans:
        return None
    return max(e for _, e in spans) - min(s for s, _ in spans)


def _from_usage_dict(usage: Mapping[str, Any], window_s: float) -> LatencyReport:
    """From a result's ``usage`` dict (no timeline kept there: no windows)."""
    models = {name: ModelLatency(model=name, figures={k: u.get(k) for k in FIGURES}, window_s=float(window_s))
              for name, u in (usage.get("models") or {}).items()}
    return LatencyReport(models=models, wall_time_s=usage.get("wall_time_s"), window_s=float(window_s))
