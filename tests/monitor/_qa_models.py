"""A small offline task for the monitor tests: arithmetic questions and a local function model whose behaviour is
set by environment variables (so a subprocess CLI run can be switched to a regressed model)."""

from __future__ import annotations

import os
import time

PROBLEMS = [{"id": f"q{i}", "prompt": f"{i} + {i} = ?", "answer": str(2 * i)} for i in range(60)]


def problems() -> list[dict[str, str]]:
    return PROBLEMS


def answer(prompt: str) -> str:
    """Right unless QA_MODE=broken (every answer wrong); QA_SLEEP_S seconds per call."""
    delay = float(os.environ.get("QA_SLEEP_S", "0") or 0)
    if delay:
        time.sleep(delay)
    i = int(prompt.split()[0])
    if os.environ.get("QA_MODE") == "broken":
        return str(2 * i + 1)
    return str(2 * i)


def exact(problem: dict[str, str], response: str) -> float:
    return float(response.strip() == problem["answer"])


def always_yes(prompt: str) -> str:
    """A constant model for the suite test (BBH navigate answers are Yes / No)."""
    return "Yes"


def answer_b(prompt: str) -> str:
    """A second model: right unless QA_MODE_B=broken."""
    i = int(prompt.split()[0])
    return str(2 * i + (1 if os.environ.get("QA_MODE_B") == "broken" else 0))
