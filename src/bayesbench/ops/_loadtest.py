"""Latency against load: the same requests at several concurrency levels, and where the server saturates.

Each level sends ``requests`` calls through its own executor with ``concurrency`` in flight (no adaptive
back-off, so the level is what is asked for) and reads latency percentiles and throughput from the
executor's usage aggregates. A server is *saturated* at the first level whose throughput grows by less
than ``saturation_gain`` (default 10 %) over the previous level's: more concurrency then only queues,
and latency climbs instead. The level before it is the knee: the most concurrency that still paid.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .._validate import positive_int
from ..errors import ConfigError


@dataclass(frozen=True)
class LoadLevel:
    """One concurrency level: how many requests, how long, how fast, with which latency."""

    concurrency: int
    requests: int
    errors: int
    wall_time_s: float
    requests_per_s: float
    latency_p50_s: float | None
    latency_p90_s: float | None
    latency_p95_s: float | None
    latency_p99_s: float | None
    latency_mean_s: float | None
    latency_sd_s: float | None
    ttft_p50_s: float | None
    output_tokens_per_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadTestReport:
    """A concurrency sweep of one model. ``saturated_at`` is the first level whose throughput grew by less
    than ``saturation_gain`` over the previous one (None: it kept growing up to the last level);
    ``knee_concurrency`` the level before it (the last level when it never saturated)."""

    model: str
    levels: list[LoadLevel]
    saturation_gain: float
    saturated_at: int | None
    knee_concurrency: int
    method: str = "closed-loop sweep: `concurrency` requests in flight, new ones sent as others finish"

    @property
    def max_requests_per_s(self) -> float:
        return max(level.requests_per_s for level in self.levels)

    def level(self, concurrency: int) -> LoadLevel:
        for lv in self.levels:
            if lv.concurrency == concurrency:
                return lv
        raise KeyError(f"no level with concurrency {concurrency}; the levels are {[lv.concurrency for lv in self.levels]}")

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "method": self.method, "saturation_gain": self.saturation_gain,
                "saturated_at": self.saturated_at, "knee_concurrency": self.knee_concurrency,
                "max_requests_per_s": self.max_requests_per_s, "levels": [lv.to_dict() for lv in self.levels]}

    def to_dataframe(self) -> Any:
        from ..engine._results import _dataframe

        return _dataframe([lv.to_dict() for lv in self.levels], "LoadTestReport.to_dataframe()")

    def summary(self) -> str:
        def s(v: float | None) -> str:
            return "-" if v is None else f"{v:.3f}"

        head = f"{'concurrency':>11}  {'requests':>8}  {'errors':>6}  {'req/s':>8}  {'p50 s':>7}  {'p95 s':>7}  " \
               f"{'p99 s':>7}  {'tok/s':>8}"
        lines = [f"load test of {self.model}", head]
        for lv in self.levels:
            lines.append(f"{lv.concurrency:>11}  {lv.requests:>8}  {lv.errors:>6}  {lv.requests_per_s:>8.2f}  "
                         f"{s(lv.latency_p50_s):>7}  {s(lv.latency_p95_s):>7}  {s(lv.latency_p99_s):>7}  "
                         f"{s(lv.output_tokens_per_s):>8}")
        if self.saturated_at is None:
            lines.append(f"not saturated: throughput still grew at concurrency {self.levels[-1].concurrency} "
                         f"(by >= {self.saturation_gain:.0%} per level)")
        else:
            lines.append(f"saturated at concurrency {self.saturated_at}: throughput grew by less than "
                         f"{self.saturation_gain:.0%} over the previous level; the knee is {self.knee_concurrency} "
                         f"({self.level(self.knee_concurrency).requests_per_s:.2f} req/s)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def find_saturation(levels: Sequence[LoadLevel], gain: float) -> tuple[int | None, int]:
    """(the first level whose throughput grew by less than ``gain`` over the previous, the level before it)."""
    for prev, cur in zip(levels, levels[1:]):
        if cur.requests_per_s < prev.requests_per_s * (1.0 + gain):
            return cur.concurrency, prev.concurrency
    return None, levels[-1].concurrency


def _check_levels(concurrency: Any) -> list[int]:
    if isinstance(concurrency, int) and not isinstance(concurrency, bool):
        concurrency = [concurrency]
    if isinstance(concurrency, str):
        try:
            concurrency = [int(c) for c in concurrency.split(",") if c.strip()]
        except ValueError:
            raise ConfigError(f"`concurrency` must be comma-separated integers like 1,8,32, got {concurrency!r}") from None
    if not isinstance(concurrency, Sequence) or not concurrency:
        raise ConfigError(f"`concurrency` must be a non-empty list of integers >= 1 like [1, 8, 32], got {concurrency!r}")
    levels = [positive_int("concurrency", c) for c in concurrency]
    if levels != sorted(set(levels)):  # type: ignore[type-var]
        raise ConfigError(f"`concurrency` must be increasing without repeats, got {list(concurrency)!r}")
    return levels  # type: ignore[return-value]


async def _level(fn: Any, name: str, prompts: Sequence[Any], concurrency: int, requests: int, timeout: float | None,
                 max_attempts: int) -> LoadLevel:
    from ..execution import Executor, RetryPolicy

    executor = Executor(max_concurrency=concurrency, adaptive=False, timeout=timeout, inline=False,
                        retry=RetryPolicy(max_attempts=max_attempts, backoff_base=0.05, backoff_max=1.0))
    try:
        start = time.perf_counter()
        await asyncio.gather(*(executor.call(name, fn, prompts[i % len(prompts)], problem_id=str(i))
                               for i in range(requests)))
        wall = time.perf_counter() - start
        u = executor.usage_summary().models[name]
    finally:
        executor.close()
    return LoadLevel(
        concurrency=concurrency, requests=requests, errors=u.errors, wall_time_s=wall,
        requests_per_s=(requests - u.errors) / wall if wall > 0 else math.inf,
        latency_p50_s=u.latency_p50_s, latency_p90_s=u.latency_p90_s, latency_p95_s=u.latency_p95_s,
        latency_p99_s=u.latency_p99_s, latency_mean_s=u.latency_mean_s, latency_sd_s=u.latency_sd_s,
        ttft_p50_s=u.ttft_p50_s, output_tokens_per_s=u.output_tokens / wall if u.output_tokens and wall > 0 else None,
    )


DEFAULT_PROMPTS = tuple({"question": f"Name a colour. ({i})"} for i in range(64))


async def loadtest_async(model: Any, *, concurrency: Any = (1, 8, 32), requests: int | None = None,
                         prompts: Sequence[Any] | None = None, name: str | None = None, timeout: float | None = 60.0,
                         max_attempts: int = 1, warmup: int = 1, saturation_gain: float = 0.1) -> LoadTestReport:
    """Async :func:`loadtest`."""
    from ..engine._pair import as_model_callable

    levels = _check_levels(concurrency)
    positive_int("requests", requests, allow_none=True)
    positive_int("max_attempts", max_attempts)
    positive_int("warmup", warmup, minimum=0)
    if isinstance(saturation_gain, bool) or not isinstance(saturation_gain, (int, float)) or not (
            0 < saturation_gain < 10):
        raise ConfigError(f"`saturation_gain` must be a fraction in (0, 10), e.g. 0.1 for 10 %, got {saturation_gain!r}")
    prompts = list(DEFAULT_PROMPTS if prompts is None else prompts)
    if not prompts:
        raise ConfigError("`prompts` must hold at least one prompt (or problem dict), got an empty list")
    fn = as_model_callable(model)
    if not callable(fn):
        raise ConfigError(f"`model` must be a model adapter or a callable, got {type(model).__name__}")
    label = name or str(getattr(model, "name", None) or getattr(model, "model", None) or getattr(fn, "__name__", "model"))
    if warmup:
        await _level(fn, label, prompts, 1, warmup, timeout, max_attempts)
    out = []
    for c in levels:
        out.append(await _level(fn, label, prompts, c, requests if requests is not None else max(8, 4 * c), timeout,
                                max_attempts))
    saturated, knee = find_saturation(out, float(saturation_gain))
    close = getattr(model, "aclose", None)
    if callable(close):
        result = close()
        if asyncio.iscoroutine(result):
            await result
    return LoadTestReport(model=label, levels=out, saturation_gain=float(saturation_gain), saturated_at=saturated,
                          knee_concurrency=knee)


def loadtest(model: Any, *, concurrency: Any = (1, 8, 32), requests: int | None = None,
             prompts: Sequence[Any] | None = None, name: str | None = None, timeout: float | None = 60.0,
             max_attempts: int = 1, warmup: int = 1, saturation_gain: float = 0.1) -> LoadTestReport:
    """Sweep concurrency levels against ``model`` and report latency, throughput and where it saturates.

    ``model``: an adapter (e.g. ``openai_model("smollm2-135m", base_url=...)``) or a callable.
    ``concurrency``: the levels, increasing (default 1, 8, 32; also "1,8,32"). ``requests``: calls per level
    (default 4 x concurrency, at least 8). ``prompts``: what to send, cycled (default 64 short questions).
    ``timeout``: per-call deadline in seconds (default 60). ``max_attempts``: 1 (default) counts every failure
    as an error instead of retrying it away. ``warmup``: calls sent first and not counted (default 1).
    ``saturation_gain``: the throughput growth below which a level counts as saturated (default 0.1).
    """
    from ..engine import run_sync

    return run_sync(lambda: loadtest_async(model, concurrency=concurrency, requests=requests, prompts=prompts,
                                           name=name, timeout=timeout, max_attempts=max_attempts, warmup=warmup,
                                           saturation_gain=saturation_gain))
