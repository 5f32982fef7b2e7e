"""The load test against real servers: the fake provider server with a latency we set and a fixed number of
slots (so we know where it must saturate), and the real llama.cpp server at small N."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bayesbench.errors import ConfigError
from bayesbench.models import openai_model
from bayesbench.ops import LoadLevel, loadtest
from bayesbench.ops._loadtest import find_saturation

ROOT = Path(__file__).resolve().parents[2]
LATENCY = 0.1
SLOTS = 4


def _slots(server, slots: int, latency: float) -> None:
    """The server answers `slots` requests at a time, each taking `latency`; the others queue (a GPU
    with a fixed batch). The sleep happens in the fault policy, before the server's own latency (0)."""
    gate = threading.BoundedSemaphore(slots)

    def policy(request):
        with gate:
            threading.Event().wait(latency)
        return None

    server.fault_policy = policy


def test_loadtest_finds_where_a_four_slot_server_saturates(fake_server):
    _slots(fake_server, SLOTS, LATENCY)
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, api_key="sk-test", max_tokens=16)
    levels = [1, 2, 4, 8, 16, 32]
    report = loadtest(model, concurrency=levels)  # 4 x concurrency requests per level (at least 8)
    rps = {lv.concurrency: lv.requests_per_s for lv in report.levels}
    capacity = SLOTS / LATENCY  # 40 requests/s: no client can get more
    for c in levels:
        assert rps[c] <= 1.05 * min(c, SLOTS) / LATENCY, rps
    for c in (1, 2, 4):  # below the slots it scales (each request also pays the client's and HTTP's time)
        assert rps[c] >= 0.5 * c / LATENCY, rps
    # the client's own time per request hides behind more requests in flight until the slots are always busy
    # (8 or 16 here), then throughput is flat at the capacity
    assert report.saturated_at in (8, 16, 32) and report.knee_concurrency == levels[levels.index(report.saturated_at) - 1]
    assert 0.75 * capacity <= rps[32] <= 1.05 * capacity, rps
    assert report.max_requests_per_s <= 1.05 * capacity
    # past the knee latency climbs: 32 in flight over 4 slots wait ~8 rounds of 0.1 s
    p50 = {lv.concurrency: lv.latency_p50_s for lv in report.levels}
    assert LATENCY <= p50[1] < LATENCY + 0.15
    assert p50[32] > 5 * LATENCY, p50
    assert all(lv.errors == 0 and lv.requests == max(8, 4 * lv.concurrency) for lv in report.levels)
    assert all(lv.latency_p50_s <= lv.latency_p95_s <= lv.latency_p99_s for lv in report.levels)
    text = report.summary()
    assert f"saturated at concurrency {report.saturated_at}" in text and f"knee is {report.knee_concurrency}" in text
    d = report.to_dict()
    assert d["saturated_at"] == report.saturated_at and [lv["concurrency"] for lv in d["levels"]] == levels
    json.dumps(d)
    assert list(report.to_dataframe()["concurrency"]) == levels


def test_a_server_without_a_limit_does_not_saturate(fake_server):
    fake_server.latency_s = 0.1  # every request sleeps concurrently: throughput grows with concurrency
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, api_key="sk-test")
    report = loadtest(model, concurrency="1,4", requests=16)
    assert report.saturated_at is None and report.knee_concurrency == 4
    assert report.level(4).requests_per_s > 2.5 * report.level(1).requests_per_s
    assert "not saturated" in report.summary()


def test_errors_are_counted_not_retried_away(fake_server):
    fake_server.add_fault(status=500, times=3)
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, api_key="sk-test")
    report = loadtest(model, concurrency=[1], requests=10, warmup=0)
    assert report.levels[0].errors == 3 and report.levels[0].requests == 10


def test_saturation_rule_on_known_levels():
    def lv(c, rps):
        return LoadLevel(c, 10, 0, 1.0, rps, None, None, None, None, None, None, None, None)

    assert find_saturation([lv(1, 10), lv(8, 70), lv(32, 72)], 0.1) == (32, 8)
    assert find_saturation([lv(1, 10), lv(8, 70), lv(32, 200)], 0.1) == (None, 32)


@pytest.mark.parametrize("bad", [[], [8, 1], [1, 1], "1,x", [0]])
def test_bad_levels_are_refused(bad):
    with pytest.raises(ConfigError, match="concurrency"):
        loadtest(lambda p: "x", concurrency=bad)


def test_loadtest_against_the_real_llama_cpp_server(llama_server):
    model = openai_model("smollm2-135m", base_url=llama_server, max_tokens=8)
    report = loadtest(model, concurrency=[1, 2], requests=4)
    assert [lv.concurrency for lv in report.levels] == [1, 2]
    for lv in report.levels:
        assert lv.errors == 0 and lv.requests == 4 and lv.requests_per_s > 0
        assert 0 < lv.latency_p50_s <= lv.latency_p99_s < 60
        assert lv.output_tokens_per_s is not None and lv.output_tokens_per_s > 0  # llama.cpp reports usage


def test_loadtest_cli_against_the_fake_server(fake_server, capsys):
    # 2 slots: 4 in flight keep them busy, 16 only queue; 0.2 s per request keeps a loaded machine's client-side
    # overhead small next to the server's time (with 0.1 s the 4 -> 16 step once measured as a >10 % gain)
    _slots(fake_server, 2, 0.2)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run([sys.executable, "-m", "bayesbench.cli", "loadtest", "fake-model", "--base-url",
                          fake_server.openai_base_url, "--concurrency", "1,4,16", "--requests", "32", "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert [lv["concurrency"] for lv in d["levels"]] == [1, 4, 16] and d["saturated_at"] == 16
    assert d["knee_concurrency"] == 4 and d["max_requests_per_s"] <= 1.05 * 2 / 0.2
    from bayesbench.cli import main

    assert main(["loadtest", "fake-model", "--base-url", fake_server.openai_base_url, "--concurrency", "1,2",
                 "--requests", "8"]) == 0
    assert "load test of fake-model" in capsys.readouterr().out
    bad = subprocess.run([sys.executable, "-m", "bayesbench.cli", "loadtest", "fake-model", "--concurrency", "8,1"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "concurrency" in bad.stderr


def test_streamed_load_test_measures_time_to_first_token(fake_server):
    fake_server.latency_s = 0.05  # before the first chunk
    fake_server.stream_chunk_delay_s = 0.02  # between chunks
    model = openai_model("fake-model", base_url=fake_server.openai_base_url, api_key="sk-test", stream=True)
    report = loadtest(model, concurrency=[2], requests=8,
                      prompts=[{"question": "one two three four five six"}])
    lv = report.levels[0]
    assert lv.errors == 0 and lv.ttft_p50_s is not None
    assert 0.05 <= lv.ttft_p50_s < lv.latency_p50_s  # the answer's words keep streaming after the first token
