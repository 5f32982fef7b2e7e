"""Fixtures for every test folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._shared import shared_data


@pytest.fixture
def leaderboard_data() -> Path:
    """The Open LLM Leaderboard v1 files in ../shared (skip where absent, fail under CI=true)."""
    return shared_data()


# the real servers, for every folder: fake_server (function scope), gguf_path and llama_server (session scope)
# a private PostgreSQL server (session scope) and a fresh database on it per test: pg_socket_dir, pg_url
from ._postgres import pg_socket_dir, pg_url  # noqa: E402, F401
from ._servers import fake_server, gguf_path, llama_server  # noqa: E402, F401
