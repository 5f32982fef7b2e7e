"""The deployment comparison on real servers: the real llama.cpp server (SmolLM2-135M) against the fake
OpenAI-compatible API (latency we set, answers we choose), and two fake APIs for the cost arithmetic."""

from __future__ import annotations

import json
import re

import pytest
from scipy import stats

from bayesbench.errors import ConfigError
from bayesbench.models import openai_model
from bayesbench.ops import CostModel, DeploymentReport, compare_deployments
from bayesbench.ops._deployment import ENTRY_KEYS

PROBLEMS = [{"question": f"What is {a} plus {b}? Answer with the number only.", "answer": str(a + b)}
            for a, b in [(i % 7 + 2, i % 5 + 3) for i in range(40)]]


def right(request):
    """The fake API answers every sum correctly."""
    a, b = map(int, re.findall(r"What is (\d+) plus (\d+)", request.prompt)[-1])
    return str(a + b)


def score(problem, response):
    found = re.findall(r"-?\d+", str(response))
    return float(bool(found) and found[0] == problem["answer"])


def test_two_apis_side_by_side_with_their_costs(fake_server):
    from tests.fakeserver import FakeServer

    fake_server.answer = right
    fake_server.latency_s = 0.02
    with FakeServer(answer="I do not know", latency_s=0.08) as slow:
        models = {"api": openai_model("fake-model", base_url=fake_server.openai_base_url, api_key="sk-test"),
                  "local": openai_model("fake-model", base_url=slow.openai_base_url, api_key="sk-test")}
        local_cost = CostModel(hourly_usd=3.6, watts=300, usd_per_kwh=0.25)
        report = compare_deployments(models, dataset=PROBLEMS, score_fn=score, cost_models={"local": local_cost},
                                     prices={"api": (1.0, 2.0)}, seed=5, max_concurrency=4)
    assert isinstance(report, DeploymentReport)
    api, local = report.entry("api"), report.entry("local")
    assert list(api)[: len(ENTRY_KEYS)] == list(ENTRY_KEYS)
    # the engine's verdict from the real run: the API is right on every problem, the other never
    assert report.comparison.winner_name == "api" and "api is more accurate" in report.verdict
    assert api["accuracy"] == 1.0 and local["accuracy"] == 0.0
    # the interval is Wilson's over the problems used: it contains the accuracy shown (the engine's Jeffreys
    # posterior interval would end below 1.0 for an all-correct model)
    n = report.comparison.problems_tested
    ref = stats.binomtest(n, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert (api["accuracy_low"], api["accuracy_high"]) == pytest.approx((ref.low, ref.high))
    assert api["accuracy_low"] <= api["accuracy"] <= api["accuracy_high"]
    assert local["accuracy_low"] <= local["accuracy"] <= local["accuracy_high"]
    assert report.problems_used < len(PROBLEMS)  # it stopped early
    # latency: each answer took at least the server's latency
    assert api["latency_p50_s"] >= 0.02 and local["latency_p50_s"] >= 0.08
    assert api["latency_p50_s"] < local["latency_p50_s"] and api["throughput_rps"] > 0
    # price table for the API: the tokens its calls reported, at $1 / $2 per million
    usage = report.comparison.usage["models"]["api"]
    api_total = (usage["input_tokens"] * 1.0 + usage["output_tokens"] * 2.0) / 1e6
    assert api["cost_source"] == "price_table" and api["cost_total_usd"] == pytest.approx(api_total)
    used = min(usage["calls"], len(PROBLEMS))
    assert api["cost_per_1000"] == pytest.approx(1000 * api_total / used)
    assert api["cost_per_correct"] == pytest.approx(api_total / report.comparison.problems_tested)
    assert api["saved_usd"] == pytest.approx(api_total / used * (len(PROBLEMS) - used))
    # hardware for the local one: $3.60/h and 300 W at $0.25/kWh over the run's wall time
    wall = report.comparison.usage["wall_time_s"]
    assert local["cost_source"] == "hardware"
    assert local["cost_total_usd"] == pytest.approx(3.6 * wall / 3600 + 0.3 * wall / 3600 * 0.25)
    assert local["energy_kwh"] == pytest.approx(0.3 * wall / 3600)
    assert local["cost_per_correct"] is None  # nothing right: no price per correct answer
    # text, dict, DataFrame
    text = report.summary()
    assert "verdict: api is more accurate" in text and "local" in text and "hardware" in text
    d = report.to_dict()
    json.dumps(d)
    assert [e["model"] for e in d["models"]] == ["api", "local"] and d["resources"]["samples"]
    frame = report.to_dataframe()
    assert list(frame["model"]) == ["api", "local"] and set(ENTRY_KEYS) <= set(frame.columns)


def test_three_deployments_are_ranked(fake_server):
    from tests.fakeserver import FakeServer

    fake_server.answer = right
    with FakeServer(answer="no") as b, FakeServer(answer=lambda r: "7") as c:
        models = {name: openai_model("fake-model", base_url=s.openai_base_url, api_key="sk-test")
                  for name, s in (("good", fake_server), ("bad", b), ("sevens", c))}
        report = compare_deployments(models, dataset=PROBLEMS, score_fn=score, seed=1, loadtest_concurrency=[1, 4],
                                     loadtest_requests=8, cost_models={"bad": CostModel(hourly_usd=7.2)})
    assert report.comparison.order[0] == "good" and ("good", "bad") in report.comparison.claims
    assert report.entry("good")["accuracy"] == 1.0 and report.entry("bad")["accuracy"] == 0.0
    assert all(e["throughput_source"] == "loadtest (best level)" for e in report.models)
    assert set(report.loadtests) == {"good", "bad", "sevens"}
    assert "certified at 95%" in report.verdict
    bad = report.entry("bad")  # the ranking prices its models too: $7.20/h over the run's wall time
    assert bad["cost_source"] == "hardware"
    assert bad["cost_total_usd"] == pytest.approx(7.2 * report.comparison.usage["wall_time_s"] / 3600)
    assert bad["cost_per_correct"] is None and report.entry("good")["cost_source"] is None
    # at capacity: $7.20/h spread over the best load-test throughput
    best = report.loadtests["bad"].max_requests_per_s
    assert bad["cost_per_1000_at_capacity"] == pytest.approx(1000 * 7.2 / 3600 / best)
    assert report.entry("good")["cost_per_1000_at_capacity"] is None  # not priced


def test_bad_deployment_input_is_refused():
    with pytest.raises(ConfigError, match="at least 2"):
        compare_deployments({"one": lambda p: "x"}, dataset=PROBLEMS, score_fn=score)
    with pytest.raises(ConfigError, match="not deployments"):
        compare_deployments({"a": lambda p: "1", "b": lambda p: "2"}, dataset=PROBLEMS, score_fn=score,
                            cost_models={"c": CostModel(hourly_usd=1.0)})
    with pytest.raises(ConfigError, match="score_fn"):
        compare_deployments({"a": lambda p: "1", "b": lambda p: "2"}, dataset=PROBLEMS)
    with pytest.raises(ConfigError, match="watts"):
        CostModel(hourly_usd=1.0, watts=100)


def test_llama_cpp_against_an_api(llama_server, fake_server):
    fake_server.answer = right
    fake_server.latency_s = 0.05
    models = {"smollm2-llamacpp": openai_model("smollm2-135m", base_url=llama_server, max_tokens=8),
              "api": openai_model("fake-model", base_url=fake_server.openai_base_url, api_key="sk-test")}
    report = compare_deployments(models, dataset=PROBLEMS[:24], score_fn=score, seed=2, max_concurrency=2,
                                 cost_models={"smollm2-llamacpp": CostModel(hourly_usd=0.2)},
                                 prices={"api": (0.15, 0.6)})
    local, api = report.entry("smollm2-llamacpp"), report.entry("api")
    assert api["accuracy"] == 1.0 and 0.0 <= local["accuracy"] < 1.0
    assert report.comparison.winner_name in (None, "api")  # a 135M model never beats an always-right API
    assert local["calls"] >= report.problems_used and local["errors"] == 0
    assert 0 < local["latency_p50_s"] <= local["latency_p95_s"] < 60
    assert local["cost_source"] == "hardware" and local["cost_total_usd"] > 0
    assert api["cost_source"] == "price_table" and api["cost_total_usd"] > 0
    assert "smollm2-llamacpp" in report.summary()


def test_deploy_cli_against_two_fake_apis(fake_server, capsys):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.fakeserver import FakeServer

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    fake_server.answer = "A"
    with FakeServer(answer="B") as other:
        argv = [sys.executable, "-m", "bayesbench.cli", "deploy", "--model", f"a=fake-model@{fake_server.openai_base_url}",
                "--model", f"b=fake-model@{other.openai_base_url}", "--problems", "24", "--hourly", "a=0.5",
                "--price", "b=0.15,0.6", "--json"]
        out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
        assert out.returncode == 0, out.stderr
        d = json.loads(out.stdout)
        assert [e["model"] for e in d["models"]] == ["a", "b"]
        assert d["models"][0]["cost_source"] == "hardware" and d["models"][1]["cost_source"] == "price_table"
        assert d["problems_used"] <= 24 and d["comparison"]["total_problems"] == 57  # one MMLU problem per subject
        from bayesbench.cli import main

        assert main(argv[3:-1]) == 0
        assert "deployment comparison: 2 deployments" in capsys.readouterr().out
    bad = subprocess.run([sys.executable, "-m", "bayesbench.cli", "deploy", "--model", "a=x"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "--model" in bad.stderr


def test_plot_draws_the_cost_accuracy_figure(tmp_path, monkeypatch):
    """.plot() draws bayesbench.plots' cost-vs-accuracy figure from the report's models: a real PNG with one
    point per deployment, labelled with their names; without the plots extra, the install line."""
    import sys

    from bayesbench.errors import MissingDependencyError

    report = compare_deployments({"a": lambda p: p["answer"], "b": lambda p: "0"}, dataset=PROBLEMS, score_fn=score,
                                 seed=0, cost_models={"a": CostModel(hourly_usd=2.0), "b": CostModel(hourly_usd=0.5)})
    out = tmp_path / "deploy.png"
    fig = report.plot(path=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 1000
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"a", "b"} <= texts, texts
    monkeypatch.setitem(sys.modules, "bayesbench.plots", None)  # the extra not installed
    with pytest.raises(MissingDependencyError, match=r"bayesbench\[plots\]"):
        report.plot()
