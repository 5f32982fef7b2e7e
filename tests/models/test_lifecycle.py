"""Adapters close their clients (sync and async), idempotently, and share one call path."""

from __future__ import annotations

import ast
import asyncio
import inspect
import pathlib
import subprocess
import sys
import textwrap

import pytest

import bayesbench.adapters
from bayesbench.models import anthropic_model, hf_model, openai_model
from bayesbench.models._provider import AsyncProviderModel, ProviderModel

ROOT = pathlib.Path(__file__).resolve().parents[2]

BUILD = {
    "openai": lambda s: openai_model("fake-model", base_url=s.openai_base_url),
    "anthropic": lambda s: anthropic_model("fake-claude", base_url=s.url),
    "huggingface": lambda s: hf_model("fake-model", base_url=s.url),
}


def _http_client(sdk_client):
    # openai / anthropic keep the httpx client in ._client; huggingface_hub opens sessions per call
    return getattr(sdk_client, "_client", None)


@pytest.mark.parametrize("name", list(BUILD))
def test_close_and_aclose_are_idempotent_and_the_model_stays_usable(fake_server, name):
    model = BUILD[name](fake_server)
    assert model("one") == "echo: one"
    sync_client = model._client
    model.close()
    model.close()
    assert model._client is None
    if _http_client(sync_client) is not None:
        assert _http_client(sync_client).is_closed

    async def main():
        assert await model.acall("two") == "echo: two"
        (client,) = model._async_clients.values()
        await model.aclose()
        await model.aclose()
        assert not model._async_clients
        if _http_client(client) is not None:
            assert _http_client(client).is_closed
        assert await model.acall("three") == "echo: three"  # a new client is opened on demand
        await model.aclose()

    asyncio.run(main())
    assert model("four") == "echo: four"
    with model:
        pass
    assert model._client is None


def test_sync_close_closes_async_clients_of_an_idle_loop(fake_server):
    model = openai_model("fake-model", base_url=fake_server.openai_base_url)
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(model.acall("x")) == "echo: x"
        (client,) = model._async_clients.values()
        model.close()
        assert client._client.is_closed and not model._async_clients
    finally:
        loop.close()


SCRIPT = """
import asyncio, gc, sys
from bayesbench.models import anthropic_model, openai_model

url, mode = sys.argv[1], sys.argv[2]
models = [openai_model("fake-model", base_url=url + "/v1"), anthropic_model("c", base_url=url)]

async def run():
    for model in models:
        await asyncio.gather(*(model.acall(f"q{i}") for i in range(4)))
        if mode == "aclose":
            await model.aclose()

async def later():  # the models are collected while another run's loop is running
    models.clear()
    gc.collect()
    await asyncio.sleep(0.2)

asyncio.run(run())
asyncio.run(later())
print("done", flush=True)
"""


def test_aclose_leaves_no_event_loop_is_closed_tracebacks(fake_server, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(SCRIPT))

    def run(mode):
        out = subprocess.run([sys.executable, str(script), fake_server.url, mode], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env={"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin"})
        assert out.returncode == 0 and "done" in out.stdout, out.stderr[-2000:]
        return out.stderr

    assert "Event loop is closed" in run("none")  # the symptom, without aclose
    assert "Event loop is closed" not in run("aclose")


def test_adapters_offer_close_and_aclose_and_only_hooks():
    for cls in (ProviderModel, AsyncProviderModel):
        assert inspect.iscoroutinefunction(cls.aclose) and callable(cls.close)
    from bayesbench.models import AnthropicModel, HFModel, LlamaCppModel, OpenAIModel

    call_path = {"generate", "a_generate", "acall", "close", "aclose", "_failure", "_deliver", "_read"}
    for cls in (OpenAIModel, AnthropicModel, HFModel, LlamaCppModel):
        assert issubclass(cls, ProviderModel)
        assert not call_path & set(vars(cls)), f"{cls.__name__} overrides the shared call path"
        assert not getattr(cls, "__abstractmethods__", None)
    assert ProviderModel.__abstractmethods__ >= {"_open", "_send", "_parse"}


def test_adapters_package_is_pure_aliases():
    folder = pathlib.Path(bayesbench.adapters.__file__).parent
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            is_all = isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["__all__"]
            assert is_doc or is_all or isinstance(node, (ast.Import, ast.ImportFrom)), (
                f"{path.name}:{node.lineno} holds logic; adapters/ only re-exports bayesbench.models")
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and path.name != "__init__.py":
                assert node.module.startswith("models."), f"{path.name} imports from {node.module}"


def test_sync_close_inside_a_running_loop_schedules_the_async_close(fake_server):
    model = openai_model("fake-model", base_url=fake_server.openai_base_url)

    async def main():
        assert await model.acall("x") == "echo: x"
        (client,) = model._async_clients.values()
        model.close()  # cannot await here: the close is scheduled on this loop
        for _ in range(50):
            if client._client.is_closed:
                break
            await asyncio.sleep(0.02)
        return client._client.is_closed

    assert asyncio.run(main())
