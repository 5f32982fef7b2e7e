"""Latency figures (checked against numpy on the same calls), windows of requests/s, and the cost arithmetic."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from bayesbench import BayesianBenchmark
from bayesbench.errors import ConfigError
from bayesbench.execution import CallRecord, Executor, UsageReport
from bayesbench.models import openai_model
from bayesbench.ops import CostModel, cost_report, latency_report
from bayesbench.store import Store


def _records(latencies, ttfts=None, tokens=10):
    return [CallRecord(model="m", problem_id=str(i), latency_s=x, attempts=1, ttft_s=None if ttfts is None else ttfts[i],
                       output_tokens=tokens, input_tokens=5) for i, x in enumerate(latencies)]


def test_percentiles_mean_sd_and_ttft_are_numpy_s():
    rng = np.random.default_rng(0)
    lat = rng.lognormal(-1, 0.5, 500)
    ttft = lat * 0.3
    report = UsageReport.from_records(_records(lat, ttft), wall_time_s=20.0)
    u = report.models["m"]
    for q, got in ((50, u.latency_p50_s), (90, u.latency_p90_s), (95, u.latency_p95_s), (99, u.latency_p99_s)):
        assert got == pytest.approx(np.percentile(lat, q))
    assert u.latency_mean_s == pytest.approx(lat.mean()) and u.latency_sd_s == pytest.approx(lat.std(ddof=1))
    assert u.ttft_p50_s == pytest.approx(np.percentile(ttft, 50)) and u.ttft_p95_s == pytest.approx(np.percentile(ttft, 95))
    assert u.throughput_per_s == pytest.approx(500 / 20.0)
    assert u.output_tokens_per_s == pytest.approx(5000 / 20.0)
    assert u.tokens_per_s_per_request == pytest.approx(5000 / lat.sum())


def test_sd_stays_exact_past_the_sketch():
    lat = np.linspace(0.01, 2.0, 6000)  # more than LatencySketch.EXACT values
    u = UsageReport.from_records(_records(lat)).models["m"]
    assert u.latency_sd_s == pytest.approx(lat.std(ddof=1), rel=1e-9)
    assert u.latency_p90_s == pytest.approx(np.percentile(lat, 90), rel=0.01)


def test_windows_from_a_stored_run(tmp_path):
    """Calls whose ends we place in time: 10 in the first 2 s, 0 in the next 2, 4 in the last 2."""
    store = Store(tmp_path / "bb.sqlite")
    rows = []
    t0 = 1_000_000.0
    for k, when in enumerate([0.1 * i for i in range(10)] + [4.2, 4.4, 4.6, 5.9]):
        row = Store._call_row("r", CallRecord(model="m", problem_id=str(k), latency_s=0.1, attempts=1,
                                              error="boom" if k == 3 else None))
        rows.append(dict(row, created=t0 + when))
    from sqlalchemy import insert

    from bayesbench.store import _schema

    with store._write() as conn:
        conn.execute(insert(_schema.calls), rows)
    report = latency_report(store, run_id="r", window_s=2)
    m = report.models["m"]
    assert [w["requests"] for w in m.windows] == [10, 0, 4]
    assert [w["errors"] for w in m.windows] == [1, 0, 0]
    assert m.windows[0]["requests_per_s"] == pytest.approx(5.0) and m.peak_requests_per_s == pytest.approx(5.0)
    assert report.wall_time_s == pytest.approx(5.9 + 0.1)
    assert m.errors == 1 and m.calls == 14
    assert "m: 14 calls, 1 errors" in report.summary()
    assert list(report.to_dataframe()["model"]) == ["m"]
    with pytest.raises(ConfigError, match="run_id"):
        latency_report(store)
    with pytest.raises(ConfigError, match="window_s"):
        latency_report(store, run_id="r", window_s=0)


def test_latency_of_a_real_executor_and_a_streamed_ttft(fake_server):
    fake_server.latency_s = 0.03
    fake_server.stream_chunk_delay_s = 0.01
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, api_key="sk-test", stream=True)

    async def go(executor):
        await asyncio.gather(*(executor.call("api", model.a_generate, f"say {i} words please") for i in range(12)))

    with Executor(max_concurrency=4) as executor:
        asyncio.run(go(executor))
        report = latency_report(executor, window_s=1)
    m = report.models["api"]
    assert m.calls == 12 and m.errors == 0 and m.latency_p50_s >= 0.03
    assert m.ttft_p50_s is not None and 0.03 <= m.ttft_p50_s <= m.latency_p50_s
    assert sum(w["requests"] for w in m.windows) == 12


def test_cost_model_arithmetic_and_per_answer_figures():
    usage = {"wall_time_s": 1800.0, "models": {
        "local": {"calls": 120, "cost_usd": None},
        "api": {"calls": 120, "cost_usd": 0.06},
        "free": {"calls": 120, "cost_usd": None}}}
    report = cost_report(usage, cost_models={"local": CostModel(hourly_usd=2.0, watts=400, usd_per_kwh=0.3)},
                         correct={"local": 60, "api": 90, "free": 30}, problems_used=100, problems_total=1000)
    local, api, free = report.models["local"], report.models["api"], report.models["free"]
    # half an hour: $1 of hardware, 0.2 kWh at $0.30
    assert local.hardware_usd == pytest.approx(1.0) and local.energy_kwh == pytest.approx(0.2)
    assert local.energy_usd == pytest.approx(0.06) and local.total_usd == pytest.approx(1.06)
    assert local.per_call_usd == pytest.approx(1.06 / 120) and local.per_correct_usd == pytest.approx(1.06 / 60)
    assert local.per_1000_problems_usd == pytest.approx(1000 * 1.06 / 100)
    assert local.saved_usd == pytest.approx(1.06 / 100 * 900)  # the 900 problems not asked, at this run's rate
    assert api.source == "price_table" and api.per_correct_usd == pytest.approx(0.06 / 90)
    assert free.source is None and free.total_usd is None and free.saved_usd is None
    assert report.total_usd == pytest.approx(1.12)
    assert "local: total $1.0600 (hardware)" in report.summary()
    assert report.to_dict()["models"]["api"]["per_1000_problems_usd"] == pytest.approx(0.6)


@pytest.mark.parametrize("bad", [dict(hourly_usd=-1), dict(hourly_usd=float("nan")), dict(watts=10),
                                 dict(usd_per_kwh=0.2), dict(hourly_usd="1")])
def test_bad_cost_models_are_refused(bad):
    with pytest.raises(ConfigError):
        CostModel(**bad)


def test_cost_models_reach_the_results_of_a_run():
    def slowish(p):
        time.sleep(0.002)
        return "right" if p % 4 else "wrong"

    bench = BayesianBenchmark(seed=3, cost_models={"local": CostModel(hourly_usd=36.0)})
    result = bench.compare(slowish, lambda p: "wrong", lambda p, r: float(r == "right"), list(range(200)),
                           model_a_name="local", model_b_name="other")
    cost = result.usage["cost"]["models"]
    wall = result.usage["wall_time_s"]
    assert cost["local"]["total_usd"] == pytest.approx(36.0 * wall / 3600)
    assert cost["local"]["correct"] == pytest.approx(sum(1 for p in result.problem_order if p % 4))
    assert cost["other"]["total_usd"] is None  # neither a CostModel nor a price
    assert cost["local"]["saved_usd"] > 0 and result.problems_tested < 200
    with pytest.raises(ConfigError, match="cost_models"):
        BayesianBenchmark(cost_models=[1, 2])


def test_latency_report_of_a_run_result():
    result = BayesianBenchmark(seed=0).compare(lambda p: "a", lambda p: "b", lambda p, r: float(r == "a"),
                                               list(range(30)), model_a_name="A", model_b_name="B")
    report = latency_report(result)
    assert set(report.models) == {"A", "B"}
    assert report.models["A"].calls == result.usage["models"]["A"]["calls"]
    assert report.models["A"].windows == []  # a result's usage keeps no timeline: windows need the executor or store
    with pytest.raises(ConfigError, match="source"):
        latency_report(42)


def test_hardware_cost_shows_in_the_result_text():
    bench = BayesianBenchmark(seed=0, cost_models={"A": CostModel(hourly_usd=3600.0)})
    result = bench.compare(lambda p: "a", lambda p: "b", lambda p, r: float(r == "a"), list(range(30)),
                           model_a_name="A", model_b_name="B")
    total = result.usage["cost"]["models"]["A"]["total_usd"]
    assert f"A: {result.usage['models']['A']['calls']} calls" in result.summary()
    assert f"cost ${total:.4f} (hardware)" in result.summary()


def test_usage_cli_reads_a_stored_run(tmp_path, capsys):
    import json

    from bayesbench.cli import main

    path = str(tmp_path / "bb.sqlite")
    result = BayesianBenchmark(seed=0, store=path).compare(lambda p: "a", lambda p: "b", lambda p, r: float(r == "a"),
                                                           list(range(30)), model_a_name="A", model_b_name="B")
    assert main(["usage", result.run_id, "--store", path, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["run_id"] == result.run_id and set(d["latency"]["models"]) == {"A", "B"}
    assert d["latency"]["models"]["A"]["calls"] == result.usage["models"]["A"]["calls"]
    assert d["resources"] == json.loads(json.dumps(result.resources.to_dict()))
    assert main(["usage", "latest", "--store", path]) == 0
    text = capsys.readouterr().out
    assert f"run {result.run_id}" in text and "A: " in text and "resources: " in text
    assert main(["usage", "nope", "--store", path]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
