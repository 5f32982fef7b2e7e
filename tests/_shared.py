"""The one rule for tests that read the team's data in ``../shared`` beside the repository.

A fresh clone has no ``../shared``: such tests skip there, with the path they looked for. Under ``CI=true``
they fail instead, so CI cannot pass by skipping them. ``BAYESBENCH_SHARED`` points at another copy
(e.g. from a git worktree, whose ``../shared`` is not the team's folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: The leaderboard files (``M_tiny*.csv.gz``) inside the shared folder.
LEADERBOARD = "data/open-llm-leaderboard-v1"


def shared_root() -> Path:
    """``$BAYESBENCH_SHARED`` if set, else ``../shared`` beside the repository."""
    override = os.environ.get("BAYESBENCH_SHARED")
    return Path(override).expanduser() if override else REPO.parent / "shared"


def require_or_skip(condition: bool, message: str) -> None:
    """The one rule for a part a test needs (a package, a server binary, the team's data): skip with
    ``message`` where it is missing, but FAIL under ``CI=true``, where .ci/run must have installed it."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI=true: this test must run in CI (install it in .ci/run)", pytrace=False)
    pytest.skip(message)


def shared_data(relative: str = LEADERBOARD) -> Path:
    """The path of ``relative`` inside the shared folder; skips the calling test when it is absent, and fails
    it under ``CI=true``. Call it at the start of a test (or use the ``leaderboard_data`` fixture)."""
    path = shared_root() / relative
    if path.exists():
        return path
    message = (
        f"needs the team's data at {path}, which is absent (a clone without ../shared beside it; "
        "set BAYESBENCH_SHARED=/path/to/shared to use another copy)"
    )
    require_or_skip(False, message)
    raise AssertionError("unreachable")  # require_or_skip(False, ...) always skips or fails
