"""HumanEval functional correctness: prompt + completion + test + ``check(entry_point)`` in the sandbox."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ScoringError
from ._sandbox import SandboxLimits, SandboxResult, run_in_sandbox

__all__ = ["check_humaneval", "humaneval_program"]

_REQUIRED = ("prompt", "test", "entry_point")


def humaneval_program(problem: Mapping[str, str], completion: str) -> str:
    """The program HumanEval's harness runs: prompt, completion, the tests, then the check call."""
    missing = [k for k in _REQUIRED if not isinstance(problem.get(k), str)]
    if missing:
        raise ScoringError(
            f"HumanEval `problem` must have string fields {', '.join(_REQUIRED)}; missing or not str: "
            f"{', '.join(missing)}. Pass a row of HumanEval.jsonl as a dict."
        )
    if not isinstance(completion, str):
        raise ScoringError(f"`completion` must be a str, got {type(completion).__name__}")
    entry = problem["entry_point"]
    if not entry.isidentifier():
        raise ScoringError(f"`entry_point` must be a Python identifier, got {entry!r}")
    return f"{problem['prompt']}{completion}\n\n{problem['test']}\n\ncheck({entry})\n"


def check_humaneval(
    problem: Mapping[str, str], completion: str, *, limits: SandboxLimits = SandboxLimits()
) -> SandboxResult:
    """Run one HumanEval completion against its unit tests in the sandbox.

    ``completion`` is the function body that continues ``problem["prompt"]`` (as in the
    original harness). The result's ``status`` is "passed" exactly when every assertion held.
    """
    return run_in_sandbox(humaneval_program(problem, completion), limits=limits)
