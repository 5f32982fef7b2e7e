"""What each model cost in time, tokens and money, and what stopping early saved."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._validate import positive_int
from ..errors import ConfigError


def _get(rec: Any, name: str, default: Any = None) -> Any:
    """Read a field from a CallRecord or from a row dict of ``Store.calls()``."""
    if isinstance(rec, Mapping):
        return rec.get(name, default)
    return getattr(rec, name, default)


@dataclass(frozen=True)
class ModelUsage:
    """Usage of one model. Latency, tokens and cost count live (non-cached) calls only;
    ``tokens_estimated`` is true when any token count was estimated rather than reported."""

    model: str
    calls: int
    errors: int
    retries: int
    cached: int
    latency_mean_s: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_p99_s: float | None
    ttft_mean_s: float | None
    throughput_per_s: float | None
    input_tokens: int
    output_tokens: int
    tokens_estimated: bool
    cost_usd: float | None

    @property
    def live_calls(self) -> int:
        return self.calls - self.cached

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Savings:
    """Calls and dollars not spent because the run stopped after ``problems_used`` of ``problems_total``.

    Projected from this run's own rate: calls per problem times the problems left, and the mean
    cost of a priced live call times those calls (None when the model has no price).
    """

    model: str
    problems_used: int
    problems_total: int
    calls_used: int
    calls_saved: float
    cost_usd_used: float | None
    cost_usd_saved: float | None

    @property
    def fraction_saved(self) -> float:
        return 1.0 - self.problems_used / self.problems_total

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), fraction_saved=self.fraction_saved)


def _pct(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def _summarise(model: str, recs: list[Any], wall_time_s: float | None) -> ModelUsage:
    live = [r for r in recs if not _get(r, "cached", False)]
    lat = np.array([float(_get(r, "latency_s") or 0.0) for r in live], dtype=float)
    ttft = [float(t) for r in live if (t := _get(r, "ttft_s")) is not None]
    costs = [float(c) for r in live if (c := _get(r, "cost_usd")) is not None]
    return ModelUsage(
        model=model,
        calls=len(recs),
        errors=sum(1 for r in recs if _get(r, "error") is not None),
        retries=sum(max(0, int(_get(r, "attempts") or 0) - 1) for r in recs),
        cached=len(recs) - len(live),
        latency_mean_s=float(lat.mean()) if lat.size else None,
        latency_p50_s=_pct(lat, 50),
        latency_p95_s=_pct(lat, 95),
        latency_p99_s=_pct(lat, 99),
        ttft_mean_s=sum(ttft) / len(ttft) if ttft else None,
        throughput_per_s=len(live) / wall_time_s if wall_time_s and wall_time_s > 0 else None,
        input_tokens=sum(int(_get(r, "input_tokens") or 0) for r in live),
        output_tokens=sum(int(_get(r, "output_tokens") or 0) for r in live),
        tokens_estimated=any(bool(_get(r, "tokens_estimated", False)) for r in live),
        cost_usd=sum(costs) if costs else None,
    )


@dataclass(frozen=True)
class UsageReport:
    """Per-model usage over one executor (or one stored run), plus the run's wall time."""

    models: dict[str, ModelUsage]
    total: ModelUsage
    wall_time_s: float | None
    _records: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_records(cls, records: Iterable[Any], *, wall_time_s: float | None = None) -> "UsageReport":
        """Build from CallRecords or from ``Store.calls(run_id)`` rows."""
        recs = list(records)
        by_model: dict[str, list[Any]] = {}
        for r in recs:
            by_model.setdefault(str(_get(r, "model")), []).append(r)
        models = {m: _summarise(m, rs, wall_time_s) for m, rs in sorted(by_model.items())}
        return cls(models=models, total=_summarise("(all)", recs, wall_time_s), wall_time_s=wall_time_s, _records=tuple(recs))

    def savings(self, *, problems_used: int, problems_total: int) -> dict[str, Savings]:
        """What stopping after ``problems_used`` of ``problems_total`` problems saved, per model and ``"(all)"``."""
        positive_int("problems_used", problems_used)
        positive_int("problems_total", problems_total)
        if problems_used > problems_total:
            raise ConfigError(
                f"`problems_used` must be <= `problems_total` ({problems_total}), got {problems_used}"
            )
        left = problems_total - problems_used
        out: dict[str, Savings] = {}
        for name, u in [*self.models.items(), ("(all)", self.total)]:
            recs = [r for r in self._records if name == "(all)" or str(_get(r, "model")) == name]
            priced = [float(c) for r in recs if not _get(r, "cached", False) and (c := _get(r, "cost_usd")) is not None]
            per_problem = u.calls / problems_used
            calls_saved = per_problem * left
            mean_cost = sum(priced) / len(priced) if priced else None
            out[name] = Savings(
                model=name,
                problems_used=problems_used,
                problems_total=problems_total,
                calls_used=u.calls,
                calls_saved=calls_saved,
                cost_usd_used=u.cost_usd,
                cost_usd_saved=None if mean_cost is None else mean_cost * calls_saved,
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "wall_time_s": self.wall_time_s,
            "models": {m: u.to_dict() for m, u in self.models.items()},
            "total": self.total.to_dict(),
        }

    _COLUMNS = (
        ("model", "model"),
        ("calls", "calls"),
        ("errors", "errors"),
        ("retries", "retries"),
        ("cached", "cached"),
        ("p50 s", "latency_p50_s"),
        ("p95 s", "latency_p95_s"),
        ("p99 s", "latency_p99_s"),
        ("mean s", "latency_mean_s"),
        ("calls/s", "throughput_per_s"),
        ("tok in", "input_tokens"),
        ("tok out", "output_tokens"),
        ("cost $", "cost_usd"),
    )

    def _rows(self) -> list[list[str]]:
        def fmt(v: Any, attr: str) -> str:
            if v is None:
                return "-"
            if attr == "cost_usd":
                return f"{v:.4f}"
            if isinstance(v, float):
                return f"{v:.3f}"
            return str(v)

        rows = []
        for u in [*self.models.values(), self.total] if len(self.models) > 1 else list(self.models.values()):
            row = [fmt(getattr(u, attr), attr) for _, attr in self._COLUMNS]
            if u.tokens_estimated:
                row[10] += "~"
                row[11] += "~"
            rows.append(row)
        return rows

    def to_text(self) -> str:
        """A plain-text table ("~" marks estimated token counts)."""
        head = [h for h, _ in self._COLUMNS]
        rows = self._rows()
        widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]
        line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
        out = [line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)]
        if self.wall_time_s is not None:
            out.append(f"wall time {self.wall_time_s:.3f} s")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()

    def __rich__(self) -> Any:
        """A rich Table, so ``rich.print(report)`` renders it."""
        from rich.table import Table

        caption = f"wall time {self.wall_time_s:.3f} s; ~ = estimated tokens" if self.wall_time_s else None
        table = Table(title="Model usage", caption=caption)
        for i, (h, _) in enumerate(self._COLUMNS):
            table.add_column(h, justify="left" if i == 0 else "right")
        for r in self._rows():
            table.add_row(*r)
        return table
