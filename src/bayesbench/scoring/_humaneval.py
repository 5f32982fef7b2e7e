"""HumanEval functional correctness: prompt + completion + test + ``check(entry_point)`` in the sandbox."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping

from ..errors import ScoringError
from ._sandbox import SandboxLimits, SandboxResult, run_in_sandbox

__all__ = ["check_humaneval", "humaneval_program"]

_REQUIRED = ("prompt", "test", "entry_point")


def humaneval_program(problem: Mapping[str, str], completion: str, *, done_marker: str | None = None) -> str:
    """The program HumanEval's harness runs: prompt, completion, the tests, then the check call.

    done_marker: if given, printed after ``check`` returns, so a run that exits early with
        status 0 (``sys.exit(0)`` in the completion) is not mistaken for a pass.
    """
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
    program = f"{problem['prompt']}{completion}\n\n{problem['test']}\n\ncheck({entry})\n"
    if done_marker is not None:
        program += f"print({done_marker!r}, flush=True)\n"
    return program


def check_humaneval(
    problem: Mapping[str, str], completion: str, *, limits: SandboxLimits = SandboxLimits()
) -> SandboxResult:
    """Run one HumanEval completion against its unit tests in the sandbox.

    ``completion`` is the function body that continues ``problem["prompt"]`` (as in the
    original harness). The result's ``status`` is "passed" exactly when the tests ran to the
    end and every assertion held: a random marker printed after ``check`` must appear, which
    catches completions that ``sys.exit(0)`` before the tests (the original harness would
    count those as passes).
    """
    marker = "bayesbench-humaneval-done-" + secrets.token_hex(8)
    result = run_in_sandbox(humaneval_program(problem, completion, done_marker=marker), limits=limits)
    if result.status == "passed":
        if marker not in result.stdout:
            return dataclasses.replace(
                result, status="failed", reason="the program exited with status 0 before the tests finished"
            )
        stdout = result.stdout.replace(marker + "\n", "").replace(marker, "")
        result = dataclasses.replace(result, stdout=stdout)
    return result
