"""Small deterministic 'models' for engine tests: each answers from a fixed per-problem table."""

from __future__ import annotations

import numpy as np
import pytest


def make_problems(n: int) -> list[dict]:
    return [{"id": i, "question": f"q{i}", "answer": "right"} for i in range(n)]


def table_model(correct: np.ndarray):
    """A sync model that is right exactly on the problems where ``correct`` is True."""

    def model(problem: dict) -> str:
        return "right" if correct[problem["id"]] else "wrong"

    return model


def exact(problem: dict, response: str) -> float:
    return float(response == problem["answer"])


@pytest.fixture
def problems_400():
    return make_problems(400)


@pytest.fixture
def correlated_tables():
    """Two correlated models on 400 problems: A ~ 0.80, B ~ 0.55 accuracy (shared difficulty)."""
    rng = np.random.default_rng(7)
    d = rng.normal(0, 1.5, 400)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    a = rng.random(400) < sig(2.0 - d)
    b = rng.random(400) < sig(0.3 - d)
    return a, b
