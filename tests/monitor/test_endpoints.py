"""Monitors of real HTTP endpoints: the fake OpenAI-compatible server and the real llama.cpp server (SmolLM2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayesbench.monitor import load_monitors, run_monitors

from .test_monitor import HERE, SECRET

pytestmark = pytest.mark.timeout(300)


def _endpoint_config(tmp_path: Path, base_url: str, model: str, *, items: int = 30, metrics=("score",),
                     extra: str = "") -> Path:
    cfg = tmp_path / "endpoint.toml"
    mets = ", ".join(f'"{m}"' for m in metrics)
    cfg.write_text(f'''
store = "runs.sqlite"
python_path = ["{HERE}"]
multiplicity = "none"
[[monitor]]
name = "endpoint"
openai_model = "{model}"
base_url = "{base_url}"
api_key_env = "BB_TEST_ENDPOINT_KEY"
dataset = "_qa_models:problems"
score = "_qa_models:exact"
metrics = [{mets}]
items_per_run = {items}
{extra}
''')
    return cfg


def test_a_latency_regression_of_a_real_http_endpoint(tmp_path, fake_server, monkeypatch):
    """The fake OpenAI-compatible server on 127.0.0.1 gets 1.5 s slower: the latency monitor alerts, the score
    monitor (the answers did not change) does not, and the API key never reaches the store."""
    monkeypatch.setenv("BB_TEST_ENDPOINT_KEY", "sk-test-" + SECRET)
    fake_server.answer = lambda req: str(2 * int(req.prompt.split()[-3]))  # "... 7 + 7 = ?" -> "14": right
    cfg = _endpoint_config(tmp_path, fake_server.openai_base_url, "fake-model", metrics=("score", "latency_s"),
                           extra="latency_bound_s = 5\nlatency_margin_s = 0.2\nmax_concurrency = 30")
    file = load_monitors(cfg)
    run_monitors(file)
    _, checks = run_monitors(file)
    assert not any(c.alert for c in checks)
    fake_server.latency_s = 1.5
    for _ in range(4):
        _, checks = run_monitors(file)
        by = {c.metric: c for c in checks}
        if by["latency_s"].alert:
            break
    assert by["latency_s"].alert and not by["score"].alert
    assert 1.0 < by["latency_s"].estimate < 3.0
    assert fake_server.request_count >= 24 + 2 * 30
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("runs.sqlite*"))
    assert SECRET.encode() not in blob


@pytest.mark.llamacpp
def test_a_monitor_on_the_real_llama_cpp_model(tmp_path, llama_server):
    """SmolLM2-135M behind the real llama.cpp server: a baseline and one check, temperature 0 (unchanged)."""
    cfg = _endpoint_config(tmp_path, llama_server, "smollm2-135m", items=8,
                           extra="timeout_s = 120\nmax_concurrency = 1\nholdout_fraction = 0.8")
    file = load_monitors(cfg)
    (o,), _ = run_monitors(file)
    assert o.kind == "baseline" and o.n_errors == 0
    _, (c,) = run_monitors(file)
    assert c.n == 8 and c.monitor == "endpoint" and c.ci_low <= c.estimate <= c.ci_high
    assert not c.alert


def test_a_cost_regression_from_longer_answers(tmp_path, fake_server, monkeypatch):
    """The endpoint starts answering with 40 extra words: more output tokens at the configured price, so the
    cost monitor alerts (the server reports usage; the executor prices it)."""
    monkeypatch.setenv("BB_TEST_ENDPOINT_KEY", "sk-x")
    fake_server.answer = lambda req: str(2 * int(req.prompt.split()[-3]))
    cfg = _endpoint_config(tmp_path, fake_server.openai_base_url, "fake-model", metrics=("cost_usd",),
                           extra="price_per_million_tokens = [1000.0, 1000.0]\ncost_bound_usd = 0.2\n"
                                 "cost_margin_usd = 0.005\nmax_concurrency = 30")
    file = load_monitors(cfg)
    run_monitors(file)
    _, (c,) = run_monitors(file)
    assert not c.alert and abs(c.estimate) < 1e-9
    fake_server.answer = lambda req: str(2 * int(req.prompt.split()[-3])) + " and so on" * 20
    for _ in range(3):
        _, (c,) = run_monitors(file)
        if c.alert:
            break
    assert c.alert and c.metric == "cost_usd" and c.estimate > 0.02
