"""A store filled by real runs and ``bayesbench serve`` over it, shared by the server tests of a session."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from .._shared import require_or_skip
from ._fill import Served, fill

TOKEN = "test-token-0123456789"


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory) -> dict:
    require_or_skip(importlib.util.find_spec("fastapi") is not None, 'needs pip install "bayesbench[serve]"')
    path = str(tmp_path_factory.mktemp("dash") / "runs.sqlite")
    ids = fill(path)
    return {"path": path, **ids}


@pytest.fixture(scope="session")
def served(filled: dict):
    server = Served(filled["path"], TOKEN)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $BAYESBENCH_ARTIFACTS (CI keeps them) or the test's tmp dir."""
    root = os.environ.get("BAYESBENCH_ARTIFACTS")
    out = Path(root) / "dashboard" if root else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    return out
