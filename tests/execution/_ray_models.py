"""The models and checks the Ray tests share (module level: Ray workers import them by reference)."""

from __future__ import annotations

import json

import numpy as np

from bayesbench.execution import RetryPolicy

N = 300
_rng = np.random.default_rng(11)
TABLES = {"strong": _rng.random(N) < 0.8, "middle": _rng.random(N) < 0.6, "weak": _rng.random(N) < 0.35}
PROBLEMS = [{"id": i, "question": f"q{i}", "answer": "right"} for i in range(N)]
FAST = RetryPolicy(max_attempts=3, backoff_base=0.01)


def answer(table: str, problem: dict) -> str:
    """A deterministic function model (module level: Ray workers import it by reference)."""
    return "right" if TABLES[table][problem["id"]] else "wrong"


def exact(problem: dict, response: str) -> float:
    return float(str(response) == problem["answer"])


def decision(result) -> dict:
    """What a run decided and from what: everything in to_dict() except timings, usage and resource samples."""
    out = result.to_dict()
    for key in ("usage", "elapsed_s", "wall_time_s", "run_id", "resources"):
        out.pop(key, None)
    return json.loads(json.dumps(out, default=str))
