"""UsageReport: percentiles, throughput, tokens, cost, savings, renderings."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
from rich.console import Console

from bayesbench.errors import ConfigError
from bayesbench.execution import CallRecord, Executor, UsageReport
from bayesbench.store import Store


def _records():
    lat = np.linspace(0.1, 1.0, 10)
    recs = [
        CallRecord(model="a", problem_id=str(i), response="x", latency_s=float(lat_s), attempts=1 + (i == 0),
                   input_tokens=100, output_tokens=10, cost_usd=0.001, ttft_s=0.05, tokens_estimated=i == 3)
        for i, lat_s in enumerate(lat)
    ]
    recs.append(CallRecord(model="a", problem_id="c", response="x", cached=True, cost_usd=0.0, input_tokens=7,
                           output_tokens=7))
    recs.append(CallRecord(model="b", problem_id="0", error="boom", attempts=3, latency_s=2.0))
    return recs, lat


def test_per_model_numbers():
    recs, lat = _records()
    rep = UsageReport.from_records(recs, wall_time_s=2.0)
    a, b = rep.models["a"], rep.models["b"]
    assert (a.calls, a.errors, a.retries, a.cached, a.live_calls) == (11, 0, 1, 1, 10)
    assert a.latency_p50_s == pytest.approx(np.percentile(lat, 50))
    assert a.latency_p95_s == pytest.approx(np.percentile(lat, 95))
    assert a.latency_p99_s == pytest.approx(np.percentile(lat, 99))
    assert a.latency_mean_s == pytest.approx(lat.mean()) and a.ttft_mean_s == pytest.approx(0.05)
    assert a.throughput_per_s == pytest.approx(10 / 2.0)  # live calls over the run's wall time
    assert (a.input_tokens, a.output_tokens, a.tokens_estimated) == (1000, 100, True)  # cached hit excluded
    assert a.cost_usd == pytest.approx(0.01)
    assert (b.calls, b.errors, b.retries, b.cost_usd) == (1, 1, 2, None)
    assert rep.total.calls == 12 and rep.total.errors == 1 and rep.total.retries == 3


def test_savings_from_stopping_early():
    recs, _ = _records()
    rep = UsageReport.from_records(recs, wall_time_s=2.0)
    s = rep.savings(problems_used=11, problems_total=44)
    assert s["a"].calls_saved == pytest.approx(11 / 11 * 33)
    assert s["a"].cost_usd_saved == pytest.approx(0.001 * 33)  # mean priced live call x calls saved
    assert s["a"].fraction_saved == pytest.approx(0.75)
    assert s["b"].cost_usd_saved is None and s["(all)"].calls_used == 12
    assert s["a"].to_dict()["fraction_saved"] == pytest.approx(0.75)
    with pytest.raises(ConfigError, match="`problems_used` must be <= `problems_total`"):
        rep.savings(problems_used=50, problems_total=44)


def test_renderings():
    recs, _ = _records()
    rep = UsageReport.from_records(recs, wall_time_s=2.0)
    d = rep.to_dict()
    assert d["models"]["a"]["calls"] == 11 and d["total"]["calls"] == 12 and d["wall_time_s"] == 2.0
    text = rep.to_text()
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["model", "calls", "errors"] and "1000~" in text and "(all)" in text
    assert str(rep) == text
    buf = io.StringIO()
    Console(file=buf, width=200).print(rep)
    assert "Model usage" in buf.getvalue() and "0.0100" in buf.getvalue()


def test_report_from_store_rows_matches_live_report(tmp_path):
    store = Store(tmp_path / "bb.sqlite")
    run_id = store.start_run("r", {}, 0, [])

    async def main():
        ex = Executor(store=store, run_id=run_id, prices={"m": (1.0, 1.0)})
        try:
            for i in range(5):
                await ex.call("m", lambda p: p * 3, f"p{i}")
            await ex.call("m", lambda p: p * 3, "p0")  # a cache hit, recorded in the background
        finally:
            ex.close()  # flushes background writes
        return ex.usage_summary()

    live = asyncio.run(main())
    stored = UsageReport.from_records(store.calls(run_id), wall_time_s=live.wall_time_s)
    assert stored.to_dict() == live.to_dict()
    assert live.models["m"].cached == 1 and live.models["m"].calls == 6
