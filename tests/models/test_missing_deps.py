"""Each adapter names the exact pip line when its SDK is missing (simulated with sys.modules[name] = None)."""

import sys

import pytest

from bayesbench.errors import MissingDependencyError
from bayesbench.models import (
    anthropic_model,
    hf_dataset,
    hf_model,
    inspect_model,
    llamacpp_model,
    mteb_sts_dataset,
    openai_model,
    st_model,
)

CASES = [
    ("openai", lambda: openai_model("m", base_url="http://127.0.0.1:9/v1"), "openai"),
    ("anthropic", lambda: anthropic_model("m", base_url="http://127.0.0.1:9"), "anthropic"),
    ("huggingface_hub", lambda: hf_model("m"), "huggingface"),
    ("datasets", lambda: hf_dataset("x.jsonl"), "huggingface"),
    ("inspect_ai.model", lambda: inspect_model("mockllm/model"), "inspect"),
    ("sentence_transformers", lambda: st_model("all-MiniLM-L6-v2"), "sentence-transformers"),
    ("mteb", lambda: mteb_sts_dataset("STS12"), "mteb"),
    ("llama_cpp", lambda: llamacpp_model(__file__), "local"),
]


@pytest.mark.parametrize("module,build,extra", CASES, ids=[c[0] for c in CASES])
def test_missing_sdk_gives_the_pip_line(monkeypatch, module, build, extra):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as info:
        build()
    assert f'pip install "bayesbench[{extra}]"' in str(info.value)


def test_importing_the_adapters_needs_no_sdk():
    import subprocess

    code = (
        "import sys\n"
        "for m in ('openai','anthropic','huggingface_hub','datasets','llama_cpp','inspect_ai','mteb','sentence_transformers'):\n"
        "    sys.modules[m] = None\n"
        "import bayesbench.models, bayesbench.adapters.openai_compat, bayesbench.adapters.anthropic_adapter\n"
        "import bayesbench.adapters.huggingface, bayesbench.adapters.inspect_ai, bayesbench.adapters.mteb, bayesbench.adapters.llamacpp\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
