"""The pictures of a run with a real LLM: SmolLM2-135M (the real llama.cpp server) against a model on the fake
provider server, recorded in a SQLite store; its latency and stopping-path figures from the store."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib", reason='needs the plots extra: pip install "bayesbench[plots]"')

from bayesbench import BayesianBenchmark, plots  # noqa: E402
from bayesbench.models import openai_model  # noqa: E402
from bayesbench.plots._stored import replay_pair_run  # noqa: E402
from tests._servers import LLAMA_ALIAS  # noqa: E402

from .test_figures import by_gid, check_png, legend_texts  # noqa: E402

pytestmark = [pytest.mark.llamacpp, pytest.mark.timeout(600)]

CAPITALS = {"France": "Paris", "Japan": "Tokyo", "Italy": "Rome", "Germany": "Berlin", "Spain": "Madrid",
            "Egypt": "Cairo", "Russia": "Moscow", "England": "London", "China": "Beijing", "Greece": "Athens",
            "Austria": "Vienna", "Portugal": "Lisbon"}


def test_real_llm_latency_and_path_from_the_store(llama_server, fake_server, tmp_path):
    fake_server.answer = "I do not know."
    fake_server.latency_s = 0.01
    problems = [{"question": f"What is the capital of {c}? Answer in one word.", "answer": a}
                for c, a in CAPITALS.items()]
    db = tmp_path / "real.sqlite"
    bench = BayesianBenchmark(seed=0, batch_size=4, store=str(db))
    smol = openai_model(LLAMA_ALIAS, base_url=llama_server, max_tokens=8, seed=0)
    fake = openai_model("fake-model", base_url=fake_server.openai_base_url)
    result = bench.compare(smol, fake, lambda p, r: float(p["answer"].lower() in r.lower()), problems,
                           model_a_name=LLAMA_ALIAS, model_b_name="fake-model")
    assert result.mean_a > result.mean_b == 0.0

    latencies = plots.call_latencies(str(db), result.run_id)
    assert sorted(latencies) == sorted([LLAMA_ALIAS, "fake-model"])
    assert len(latencies[LLAMA_ALIAS]) == result.usage["models"][LLAMA_ALIAS]["calls"]
    fig = plots.stored_run(str(db), result.run_id, kind="latency", path=tmp_path / "latency.png")
    check_png(tmp_path / "latency.png")
    labels = legend_texts(fig.axes[0])
    assert len(by_gid(fig.axes[0], "ecdf")) == 2 and any(t.startswith(f"{LLAMA_ALIAS} (n=") for t in labels)

    fig = plots.stored_run(str(db), result.run_id, path=tmp_path / "path.png")
    check_png(tmp_path / "path.png")
    assert by_gid(fig.axes[0], "stop")[0].get_xdata()[0] == result.problems_tested
    assert replay_pair_run(str(db), result.run_id).stopping_path == result.stopping_path
    assert f"{LLAMA_ALIAS} better than fake-model" in legend_texts(fig.axes[0])
