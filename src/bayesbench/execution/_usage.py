"""What each model cost in time, tokens and money, and what stopping early saved."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._validate import positive_int
from ..errors import ConfigError


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
    latency_p90_s: float | None = None
    latency_sd_s: float | None = None
    ttft_p50_s: float | None = None
    ttft_p95_s: float | None = None
    #: output tokens per second of the run's wall time (what the deployment delivered)
    output_tokens_per_s: float | None = None
    #: output tokens per second of a request's own latency (how fast one answer streams)
    tokens_per_s_per_request: float | None = None

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


class LatencySketch:
    """Latency quantiles in bounded memory.

    The first :attr:`EXACT` values are kept as they are, so small runs get exactly
    ``numpy.percentile`` (linear interpolation). Beyond that every value goes into a log-bucketed
    histogram (the DDSketch idea): bucket ``i`` holds values in ``(g**(i-1), g**i]`` with
    ``g = (1 + a) / (1 - a)``, and a quantile is answered by its bucket's midpoint, within a
    relative error of ``a`` = :attr:`RELATIVE_ERROR` (0.5 %). Memory stays a few thousand numbers
    however many calls are made (about 1 400 buckets span 1 µs .. 1 day).
    """

    EXACT = 4096
    RELATIVE_ERROR = 0.005
    _GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR)
    _LOG_GAMMA = math.log(_GAMMA)

    __slots__ = ("_exact", "_buckets", "_zeros", "count", "total", "total_sq")

    def __init__(self) -> None:
        self._exact: list[float] | None = []
        self._buckets: dict[int, int] = {}
        self._zeros = 0
        self.count = 0
        self.total = 0.0
        self.total_sq = 0.0

    def add(self, x: float) -> None:
        self.count += 1
        self.total += x
        self.total_sq += x * x
        if self._exact is not None:
            self._exact.append(x)
            if len(self._exact) > self.EXACT:
                values, self._exact = self._exact, None
                for v in values:
                    self._bucket(v)
            return
        self._bucket(x)

    def _bucket(self, x: float) -> None:
        if x <= 1e-9:
            self._zeros += 1
            return
        i = math.ceil(math.log(x) / self._LOG_GAMMA)
        self._buckets[i] = self._buckets.get(i, 0) + 1

    def quantile(self, q: float) -> float | None:
        """The ``q``-th percentile (0..100), or None without values."""
        if not self.count:
            return None
        if self._exact is not None:
            return float(np.percentile(np.asarray(self._exact, dtype=float), q))
        rank = q / 100 * (self.count - 1)
        seen = self._zeros
        if rank < seen:
            return 0.0
        for i in sorted(self._buckets):
            seen += self._buckets[i]
            if rank < seen:
                return 2 * self._GAMMA**i / (self._GAMMA + 1)
        return 2 * self._GAMMA ** max(self._buckets) / (self._GAMMA + 1)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def sd(self) -> float | None:
        """Sample standard deviation (n - 1), exact whatever the count; None below two values."""
        if self.count < 2:
            return None
        mean = self.total / self.count
        return math.sqrt(max(0.0, (self.total_sq - self.count * mean * mean) / (self.count - 1)))

    @classmethod
    def merged(cls, sketches: Iterable[LatencySketch]) -> LatencySketch:
        """One sketch over the values of several (exact while their values together fit)."""
        out = cls()
        for sk in sketches:
            if sk._exact is not None and out._exact is not None and len(out._exact) + len(sk._exact) <= cls.EXACT:
                out._exact.extend(sk._exact)
            else:
                if out._exact is not None:
                    values, out._exact = out._exact, None
                    for v in values:
                        out._bucket(v)
                for v in sk._exact or ():
                    out._bucket(v)
                out._zeros += sk._zeros
                for i, c in sk._buckets.items():
                    out._buckets[i] = out._buckets.get(i, 0) + c
            out.count += sk.count
            out.total += sk.total
            out.total_sq += sk.total_sq
        return out


class _Row:
    """A ``Store.calls()`` row dict read with a CallRecord's attribute names."""

    _FIELDS = ("model", "error", "attempts", "cached", "latency_s", "ttft_s", "input_tokens", "output_tokens",
               "tokens_estimated", "cost_usd", "created")

    def __init__(self, row: Mapping[str, Any]) -> None:
        for name in self._FIELDS:
            setattr(self, name, row.get(name))


class _Tally:
    """Running totals of one model's calls (what :class:`ModelUsage` reports), O(1) per call."""

    __slots__ = ("calls", "errors", "retries", "cached", "latency", "ttft_sum", "ttft_n", "ttft", "input_tokens",
                 "output_tokens", "tokens_estimated", "cost_sum", "priced", "live_latency_sum")

    def __init__(self) -> None:
        self.calls = self.errors = self.retries = self.cached = 0
        self.latency = LatencySketch()
        self.ttft = LatencySketch()
        self.ttft_sum, self.ttft_n = 0.0, 0
        self.live_latency_sum = 0.0
        self.input_tokens = self.output_tokens = 0
        self.tokens_estimated = False
        self.cost_sum, self.priced = 0.0, 0

    def add(self, rec: Any, latency: bool = True) -> None:
        """Count one CallRecord (or anything with its attributes); ``latency=False`` leaves the
        latency sketch to be merged later (the overall total)."""
        self.calls += 1
        if rec.error is not None:
            self.errors += 1
        if rec.attempts and rec.attempts > 1:
            self.retries += int(rec.attempts) - 1
        if rec.cached:
            self.cached += 1
            return  # latency, tokens and cost count live calls only
        if latency:
            self.latency.add(float(rec.latency_s or 0.0))
        self.live_latency_sum += float(rec.latency_s or 0.0)
        ttft = rec.ttft_s
        if ttft is not None:
            self.ttft_sum += float(ttft)
            self.ttft_n += 1
            self.ttft.add(float(ttft))
        if rec.input_tokens:
            self.input_tokens += int(rec.input_tokens)
        if rec.output_tokens:
            self.output_tokens += int(rec.output_tokens)
        if rec.tokens_estimated:
            self.tokens_estimated = True
        cost = rec.cost_usd
        if cost is not None:
            self.cost_sum += float(cost)
            self.priced += 1

    def usage(self, model: str, wall_time_s: float | None) -> ModelUsage:
        lat = self.latency
        live = self.calls - self.cached
        return ModelUsage(
            model=model,
            calls=self.calls,
            errors=self.errors,
            retries=self.retries,
            cached=self.cached,
            latency_mean_s=lat.mean,
            latency_p50_s=lat.quantile(50),
            latency_p95_s=lat.quantile(95),
            latency_p99_s=lat.quantile(99),
            ttft_mean_s=self.ttft_sum / self.ttft_n if self.ttft_n else None,
            throughput_per_s=live / wall_time_s if wall_time_s and wall_time_s > 0 else None,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            tokens_estimated=self.tokens_estimated,
            cost_usd=self.cost_sum if self.priced else None,
            latency_p90_s=lat.quantile(90),
            latency_sd_s=lat.sd,
            ttft_p50_s=self.ttft.quantile(50),
            ttft_p95_s=self.ttft.quantile(95),
            output_tokens_per_s=self.output_tokens / wall_time_s if wall_time_s and self.output_tokens else None,
            tokens_per_s_per_request=(self.output_tokens / self.live_latency_sum
                                      if self.output_tokens and self.live_latency_sum > 0 else None),
        )


class UsageTally:
    """Per-model and overall running totals of calls: what an executor keeps instead of every record.

    ``add(record)`` is O(1) and memory stays bounded (see :class:`LatencySketch`); ``report()``
    gives the :class:`UsageReport`. ``calls`` and ``cost_usd`` (live calls only) are the totals the
    engine reads for a run's call count and its cost budget.
    """

    #: width of the timeline's buckets (requests/s in windows are read from it)
    TIMELINE_S = 1.0

    def __init__(self) -> None:
        self._models: dict[str, _Tally] = {}
        self._total = _Tally()
        self._t0: float | None = None
        # {model: {second since the first call ended: [calls, errors, output tokens of live calls]}}
        self._timeline: dict[str, dict[int, list[int]]] = {}

    def add(self, rec: Any) -> None:
        if isinstance(rec, Mapping):  # a row of Store.calls(): read it like a record
            rec = _Row(rec)
        model = str(rec.model)
        tally = self._models.get(model)
        if tally is None:
            tally = self._models[model] = _Tally()
        tally.add(rec)
        self._total.add(rec, latency=False)  # the total's latency is merged from the models' at report time
        # when the call ended: a stored row's time, else now (the executor adds a record as its call ends)
        when = getattr(rec, "created", None)
        when = float(when) if when is not None else time.time()
        if self._t0 is None:
            self._t0 = when
        slot = self._timeline.setdefault(model, {}).setdefault(int((when - self._t0) // self.TIMELINE_S), [0, 0, 0])
        slot[0] += 1
        slot[1] += rec.error is not None
        if not rec.cached and rec.output_tokens:
            slot[2] += int(rec.output_tokens)

    @property
    def calls(self) -> int:
        return self._total.calls

    @property
    def cost_usd(self) -> float:
        """Dollars of the priced live (non-cached) calls so far."""
        return self._total.cost_sum

    def report(self, wall_time_s: float | None = None) -> UsageReport:
        models = {m: t.usage(m, wall_time_s) for m, t in sorted(self._models.items())}
        priced = {m: (t.cost_sum, t.priced) for m, t in self._models.items()}
        priced["(all)"] = (self._total.cost_sum, self._total.priced)
        self._total.latency = LatencySketch.merged(t.latency for t in self._models.values())
        timeline = {m: sorted((k, *v) for k, v in t.items()) for m, t in self._timeline.items()}
        return UsageReport(models=models, total=self._total.usage("(all)", wall_time_s), wall_time_s=wall_time_s,
                           _priced=priced, timeline=timeline)


@dataclass(frozen=True)
class UsageReport:
    """Per-model usage over one executor (or one stored run), plus the run's wall time."""

    models: dict[str, ModelUsage]
    total: ModelUsage
    wall_time_s: float | None
    # {model or "(all)": (dollars of priced live calls, how many were priced)}, for savings()
    _priced: dict[str, tuple[float, int]] = field(default_factory=dict, repr=False, compare=False)
    #: {model: [(second, calls, errors, output tokens), ...]}: when the calls ended, in
    #: ``UsageTally.TIMELINE_S`` buckets from the first one (bayesbench.ops.latency_report reads windows from it)
    timeline: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_records(cls, records: Iterable[Any], *, wall_time_s: float | None = None) -> UsageReport:
        """Build from CallRecords or from ``Store.calls(run_id)`` rows."""
        tally = UsageTally()
        for r in records:
            tally.add(r)
        return tally.report(wall_time_s)

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
            dollars, priced = self._priced.get(name, (0.0, 0))
            per_problem = u.calls / problems_used
            calls_saved = per_problem * left
            mean_cost = dollars / priced if priced else None
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
