"""bayesbench.history's public surface: every name in __all__ exists, is documented and is used by a test."""

from __future__ import annotations

from pathlib import Path

from bayesbench import history

HERE = Path(__file__).parent
DOC = (HERE.parents[1] / "docs" / "history.md").read_text()
TESTS = "\n".join(p.read_text() for p in HERE.glob("test_*.py") if p.name != "test_public.py")


def test_every_public_name_is_importable_documented_and_tested():
    for name in history.__all__:
        assert hasattr(history, name) and not name.startswith("_"), name
        assert name in DOC, f"{name} is not in docs/history.md"
        assert name in TESTS, f"{name} is not used by any test in tests/history"
