"""HumanEval functional correctness, with a verdict the completion cannot forge.

The dataset's ``check(candidate)`` runs here, in the trusted process, and never sees model
code: ``candidate`` (and the entry point's name, which some tests call too) is a proxy that
sends the arguments as plain data to the sandbox, where the prompt + completion is the only
code, and gets plain data back (``_wire``). The assertions compare real built-in values, so
nothing the completion prints, exits with, patches or returns (an object whose ``__eq__``
lies cannot cross) can make a wrong answer pass. See docs/sandbox.md.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ScoringError
from ._sandbox import Backend, ChannelError, Sandbox, SandboxLimits, SandboxResult
from ._wire import WireError, decode, dumps, encode

__all__ = ["check_humaneval", "humaneval_program"]

_REQUIRED = ("prompt", "test", "entry_point")
_SERVER = Path(__file__).with_name("_wire.py").read_text(encoding="utf-8")
# After a passing check the sandbox has nothing left to do: give it this long to exit on its own.
_EXIT_GRACE_S = 1.0


def _validate(problem: Mapping[str, str], completion: str) -> str:
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
    return entry


def humaneval_program(problem: Mapping[str, str], completion: str) -> str:
    """The single program the original harness runs: prompt, completion, the tests, ``check(entry_point)``.

    For reference and baselines only: ``check_humaneval`` does not run it (in one process the
    completion could fake the tests' outcome).
    """
    entry = _validate(problem, completion)
    return f"{problem['prompt']}{completion}\n\n{problem['test']}\n\ncheck({entry})\n"


class _CandidateFailed(Exception):
    """The sandboxed candidate raised, gave a value that is not plain data, or gave no answer.

    Every one is also recorded by the proxy, so a test that swallowed it still fails.
    """

    def __init__(self, reason: str, kind: str = "failed") -> None:
        super().__init__(reason)
        self.kind = kind


def _proxy(box: Sandbox, entry: str, failures: list[_CandidateFailed]) -> Any:
    def candidate(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(args, kwargs)
        except _CandidateFailed as exc:
            failures.append(exc)
            raise

    def call(args: tuple, kwargs: dict) -> Any:
        try:
            request = dumps({"args": encode(list(args)), "kwargs": encode(kwargs)})
        except (WireError, ValueError) as exc:  # the test passed something we cannot send: a harness limit
            raise ScoringError(f"HumanEval test argument cannot be sent to the sandbox: {exc}") from None
        try:
            line = box.call(request)
        except ChannelError as exc:
            raise _CandidateFailed(str(exc), kind=exc.kind) from None
        try:
            reply = json.loads(line)
            if not isinstance(reply, dict) or len(reply) != 1:
                raise WireError("a reply must be {'ok': value} or {'error': message}")
            if "error" in reply:
                message = str(reply["error"])[:300]
                raise _CandidateFailed(message, kind="memory" if message.startswith("MemoryError") else "failed")
            if "ok" not in reply:
                raise WireError("a reply must be {'ok': value} or {'error': message}")
            return decode(reply["ok"])
        except (ValueError, RecursionError) as exc:  # WireError and JSONDecodeError are ValueErrors
            box.kill()
            raise _CandidateFailed(f"malformed reply from the sandbox: {type(exc).__name__}: {exc}"[:300]) from None

    candidate.__name__ = candidate.__qualname__ = entry
    return candidate


def _compile_prompt(prompt: str) -> Any:
    """The prompt as code: it ends inside the entry point's body (a docstring, or nothing at all)."""
    for source in (prompt, prompt.rstrip() + "\n    pass\n"):
        try:
            return compile(source, "<HumanEval prompt>", "exec")
        except SyntaxError as exc:
            error = exc
    raise ScoringError(f"HumanEval `prompt` is not valid Python on its own: {error}; it must end with the "
                       f"entry point's signature (and docstring)")


def _run_check(problem: Mapping[str, str], entry: str, candidate: Any) -> None:
    """The dataset's prompt (for its helper functions) and tests, with the entry point as the proxy."""
    namespace: dict[str, Any] = {"__name__": "bayesbench_humaneval_check"}
    exec(_compile_prompt(problem["prompt"]), namespace)  # noqa: S102 - dataset code
    namespace[entry] = candidate
    exec(compile(problem["test"], "<HumanEval test>", "exec"), namespace)  # noqa: S102 - dataset code
    namespace[entry] = candidate
    namespace["check"](candidate)


def check_humaneval(
    problem: Mapping[str, str],
    completion: str,
    *,
    limits: SandboxLimits = SandboxLimits(),
    backend: Backend = "auto",
) -> SandboxResult:
    """Run one HumanEval completion against its unit tests; the verdict is decided here, not in the sandbox.

    ``completion`` continues ``problem["prompt"]`` (as in the original harness). ``status`` is
    "passed" exactly when the dataset's ``check`` ran to its end in this process with every
    assertion true on the values the sandboxed function returned; "failed" (an assertion, an
    exception in the candidate, a value that is not plain data, no answer), "timeout" (wall
    clock or CPU limit), "memory", or "error" (the sandbox could not start). ``reason`` says why.
    """
    entry = _validate(problem, completion)
    program = f"{_SERVER}\nserve({problem['prompt'] + completion!r}, {entry!r})\n"
    failures: list[_CandidateFailed] = []
    with Sandbox(program, limits=limits, backend=backend, channel=True) as box:
        try:
            _run_check(problem, entry, _proxy(box, entry, failures))
            if failures:  # the test caught the candidate's failure and carried on: still a failure
                raise failures[0]
        except _CandidateFailed as exc:
            result = box.finish(grace_s=_EXIT_GRACE_S)
            if result.status in ("timeout", "memory", "error"):
                return result  # the sandbox's own account (CPU, wall clock, OOM) says most
            status = "memory" if exc.kind == "memory" else "timeout" if exc.kind == "timeout" else "failed"
            if exc.kind == "ended":
                return dataclasses.replace(result, status="failed", reason=f"{exc} ({result.reason})")
            return dataclasses.replace(result, status=status, reason=str(exc))
        except ScoringError:
            raise
        except Exception as exc:  # the test's own assertion (or its code) failed on a real value
            result = box.finish(grace_s=0)
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return dataclasses.replace(result, status="failed", reason=f"test failed: {detail}"[:300])
        result = box.finish(grace_s=_EXIT_GRACE_S)
    return dataclasses.replace(result, status="passed", reason="all tests passed")
