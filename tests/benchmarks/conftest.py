"""Small deterministic models whose expected accuracy on a benchmark is known exactly."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


class LookupModel:
    """Answers from a prompt -> text table; prompts not in the table get ``default``. Thread-safe call log."""

    def __init__(self, table: dict[str, str], default: str = "") -> None:
        self.table = table
        self.default = default
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        with self._lock:
            self.calls.append(prompt)
        return self.table.get(prompt, self.default)


def oracle(
    problems: list[dict[str, Any]],
    right: Callable[[int], bool],
    answer: Callable[[dict[str, Any]], str],
    wrong: Callable[[dict[str, Any]], str],
) -> tuple[LookupModel, int]:
    """A model answering ``answer(p)`` for problems whose index satisfies ``right(i)``, else ``wrong(p)``;
    returns the model and how many problems it gets right (the exact expected count)."""
    table = {}
    n_right = 0
    for i, p in enumerate(problems):
        if right(i):
            table[p["prompt"]] = answer(p)
            n_right += 1
        else:
            table[p["prompt"]] = wrong(p)
    return LookupModel(table), n_right


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
