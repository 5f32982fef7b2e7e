"""The original adapter import paths and the runnable examples of docs/models.md (`__all__` is checked for
every package in tests/test_public_api.py)."""

import importlib

import bayesbench.adapters
import bayesbench.models


def test_original_adapter_import_paths():
    paths = {
        "openai_compat": ["openai_model"],
        "anthropic_adapter": ["anthropic_model"],
        "huggingface": ["hf_model", "hf_dataset"],
        "inspect_ai": ["inspect_model", "from_inspect_dataset"],
        "mteb": ["st_model", "mteb_sts_dataset"],
        "llamacpp": ["llamacpp_model"],
    }
    assert sorted(bayesbench.adapters.__all__) == sorted(paths)
    for module, names in paths.items():
        mod = importlib.import_module(f"bayesbench.adapters.{module}")
        for name in names:
            assert name in mod.__all__ and getattr(mod, name) is getattr(bayesbench.models, name)


def test_runnable_doc_examples_run():
    import pathlib
    import re

    doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "models.md"
    blocks = re.findall(r"<!-- runnable -->\n```python\n(.*?)```", doc.read_text(), flags=re.S)
    assert len(blocks) >= 5
    for block in blocks:
        exec(compile(block, str(doc), "exec"), {})
