"""``check_model_adapter``: a conformance suite third parties run on their model adapter
(the analogue of scikit-learn's ``check_estimator``)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, ModelError
from ._base import as_callable, is_async_callable
from ._errors import ErrorInfo, classify_error

__all__ = ["AdapterCheck", "AdapterCheckReport", "check_cache_key", "check_model_adapter"]


@dataclass(frozen=True)
class AdapterCheck:
    """One check: its name, whether it passed, and what was seen."""

    name: str
    passed: bool
    detail: str = ""


@dataclass
class AdapterCheckReport:
    """All checks of one :func:`check_model_adapter` run."""

    model: str
    is_async: bool
    checks: list[AdapterCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[AdapterCheck]:
        return [c for c in self.checks if not c.passed]

    def summary(self) -> str:
        lines = [f"check_model_adapter({self.model!r}, {'async' if self.is_async else 'sync'}): "
                 f"{sum(c.passed for c in self.checks)}/{len(self.checks)} checks passed"]
        lines += [f"  [{'ok' if c.passed else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        return "\n".join(lines)


def _run(fn: Any, problem: Any, is_async: bool, timeout: float) -> Any:
    if is_async:
        async def go() -> Any:
            return await asyncio.wait_for(fn(problem), timeout)

        return asyncio.run(go())
    result = fn(problem)
    if inspect.isawaitable(result):  # a sync-looking callable that returned a coroutine
        async def finish() -> Any:
            return await asyncio.wait_for(result, timeout)

        return asyncio.run(finish())
    return result


def _identity(model: Any) -> str:
    from ..execution._keys import callable_identity  # lazy: execution imports models

    return callable_identity(model)


def _close(model: Any) -> None:
    close = getattr(model, "close", None)
    if callable(close):
        close()


def _parameters(factory: Callable[..., Any]) -> list[str]:
    target = factory.func if isinstance(factory, functools.partial) else factory
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in inspect.signature(target).parameters.values() if p.kind in kinds]


def cache_key_checks(
    factory: Callable[..., Any],
    base: Mapping[str, Any],
    variants: Mapping[str, Any],
    neutral: Iterable[str] = (),
    fixed: Iterable[str] = (),
) -> list[AdapterCheck]:
    """The checks of :func:`check_cache_key`, as a list (see there)."""
    checks: list[AdapterCheck] = []
    neutral, fixed = set(neutral), set(fixed)
    unknown = sorted((set(variants) | neutral | fixed) - set(_parameters(factory)))
    if unknown:
        raise ConfigError(f"`variants` / `neutral` name parameters {unknown} that the factory does not take; "
                          f"it takes {_parameters(factory)}")
    built = [factory(**dict(base)), factory(**dict(base))]
    try:
        reference = _identity(built[0])
        checks.append(AdapterCheck("cache_key_stable", reference == _identity(built[1]),
                                   "two adapters built alike must share one cache identity"))
        secret = base.get("api_key")
        if isinstance(secret, str) and secret:
            checks.append(AdapterCheck("cache_key_has_no_secret", secret not in reference, "the API key is not in the key"))
        for name in _parameters(factory):
            if name not in variants:
                checks.append(AdapterCheck(
                    f"cache_key[{name}]", False,
                    f"parameter `{name}` is not covered: give it a value in `variants` (and list it in `neutral` "
                    "if it cannot change an answer)"))
                continue
            if name in fixed:
                try:
                    built.append(factory(**{**dict(base), name: variants[name]}))
                except ConfigError:
                    checks.append(AdapterCheck(f"cache_key[{name}]", True, "fixed: any other value is refused"))
                else:
                    checks.append(AdapterCheck(f"cache_key[{name}]", False,
                                               f"declared fixed, but {variants[name]!r} was accepted: put it in the key"))
                continue
            other = factory(**{**dict(base), name: variants[name]})
            built.append(other)
            changed = _identity(other) != reference
            if name in neutral:
                checks.append(AdapterCheck(f"cache_key[{name}]", not changed,
                                           "neutral: must not change the key" + ("" if not changed else ", but it did")))
            else:
                checks.append(AdapterCheck(f"cache_key[{name}]", changed,
                                           "can change an answer: must change the key" + ("" if changed else ", but it did not")))
    finally:
        for model in built:
            _close(model)
    return checks


def check_cache_key(
    factory: Callable[..., Any],
    base: Mapping[str, Any],
    variants: Mapping[str, Any],
    *,
    neutral: Iterable[str] = (),
    fixed: Iterable[str] = (),
    raise_on_failure: bool = True,
) -> AdapterCheckReport:
    """Check that an adapter's cache identity covers every parameter that can change an answer.

    ``factory(**base)`` builds the adapter (e.g. ``openai_model`` with ``base={"model": ...,
    "base_url": ...}``). Every parameter in ``factory``'s signature must have an alternative value
    in ``variants``: building with that one value changed must change the cache identity, except
    for the parameters named in ``neutral`` (``api_key``, ``timeout``, ...), where it must not, and
    those named in ``fixed`` (accepting only their default, like Anthropic's ``seed``), where the
    factory must refuse the value with a ``ConfigError``. A parameter added to the factory later
    and left out of ``variants`` fails the check, so the key cannot silently fall behind the
    signature. Also checked: two adapters built alike share one identity, and ``base["api_key"]``
    (when given) is not in it. Nothing is called.

    Returns the report; with ``raise_on_failure`` a failed check raises
    :class:`~bayesbench.errors.ModelError` carrying the summary.
    """
    name = getattr(factory, "__name__", getattr(getattr(factory, "func", None), "__name__", "factory"))
    checks = cache_key_checks(factory, base, variants, neutral, fixed)
    report = AdapterCheckReport(model=str(name), is_async=False, checks=checks)
    if raise_on_failure and not report.passed:
        raise ModelError(f"the adapter's cache key misses parameters; put them in its cache_key:\n{report.summary()}")
    return report


def check_model_adapter(
    fn: Any,
    problems: Iterable[Any] | None = None,
    *,
    timeout: float = 60.0,
    raise_on_failure: bool = True,
    factory: Callable[..., Any] | None = None,
    base: Mapping[str, Any] | None = None,
    variants: Mapping[str, Any] | None = None,
    neutral: Iterable[str] = (),
    fixed: Iterable[str] = (),
) -> AdapterCheckReport:
    """Check that ``fn`` (a function, :class:`BaseLLM` or adapter) behaves as bayesbench expects.

    Checks, each reported as an :class:`AdapterCheck`:

    1. ``sync_async_detection``: :func:`as_callable` detects sync vs async the same way the
       object behaves (an async model returns awaitables, a sync one does not).
    2. ``string_problem``: a plain string problem gives a ``str`` (``Completion`` counts).
    3. ``dict_problem``: a dict problem ``{"question": ..., "answer": ...}`` gives a ``str``.
    4. ``no_answer_leak``: the dict problem's ``answer`` (a random canary) is not sent. Seen
       in the prompt when the model exposes ``build_prompt``, else in the response (definitive
       against an echoing server such as the test fake server).
    5. ``user_problems``: every problem in ``problems`` (default: none) gives a ``str``.
    6. ``errors_classifiable``: a problem with no question text either gets a ``str`` or raises an
       error :func:`classify_error` marks as not retryable (retrying bad input cannot help);
       ``classify_error`` never raises on it.
    7. With ``factory`` / ``base`` / ``variants`` / ``neutral`` / ``fixed``: the cache-key checks of
       :func:`check_cache_key` (every parameter that can change an answer is in the key).

    Returns the report; with ``raise_on_failure`` (default) a failed check raises
    :class:`~bayesbench.errors.ModelError` carrying the summary.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"`timeout` must be a positive number of seconds, got {timeout!r}")
    call = as_callable(fn)
    is_async = is_async_callable(call)
    report = AdapterCheckReport(model=getattr(call, "model_name", "model"), is_async=is_async)
    add = report.checks.append

    # 1. detection agrees with behaviour
    probe = call("Say OK.")
    awaitable = inspect.isawaitable(probe)
    if awaitable:
        try:
            asyncio.run(asyncio.wait_for(probe, timeout))
        except Exception:
            pass  # failures are reported by the checks below
    add(AdapterCheck("sync_async_detection", awaitable == is_async,
                     f"detected {'async' if is_async else 'sync'}, call returned {'an awaitable' if awaitable else 'a value'}"))

    def attempt(name: str, problem: Any) -> Any:
        try:
            out = _run(call, problem, is_async, timeout)
        except Exception as exc:
            add(AdapterCheck(name, False, f"raised {type(exc).__name__}: {exc}"))
            return None
        ok = isinstance(out, str)
        add(AdapterCheck(name, ok, f"returned {type(out).__name__}" + ("" if ok else " (must be str or Completion)")))
        return out if ok else None

    # 2-3. string and dict problems
    attempt("string_problem", "What is 2 + 2? Answer with a number.")
    canary = f"CANARY-{uuid.uuid4().hex[:12]}"
    dict_problem = {"question": "What is the capital of France? Answer in one word.", "answer": canary}
    out = attempt("dict_problem", dict_problem)

    # 4. the answer never reaches the model
    builder = getattr(getattr(call, "__bayesbench_model__", fn), "build_prompt", None)
    if callable(builder):
        try:
            prompt = builder(dict_problem)
            add(AdapterCheck("no_answer_leak", canary not in str(prompt), "checked the built prompt"))
        except Exception as exc:
            add(AdapterCheck("no_answer_leak", False, f"build_prompt raised {type(exc).__name__}: {exc}"))
    elif out is not None:
        add(AdapterCheck("no_answer_leak", canary not in out, "checked the response (no build_prompt to inspect)"))
    else:
        add(AdapterCheck("no_answer_leak", False, "could not check: the dict problem failed"))

    # 5. the caller's own problems
    for i, problem in enumerate(problems or []):
        attempt(f"user_problems[{i}]", problem)

    # 6. errors are classifiable, and bad input is not retried
    bad = {"no_question_here": 1}
    try:
        result = _run(call, bad, is_async, timeout)
        add(AdapterCheck("errors_classifiable", isinstance(result, str),
                         f"a problem without question text returned {type(result).__name__}"))
    except Exception as exc:
        try:
            info = classify_error(exc)
            ok = isinstance(info, ErrorInfo) and not info.retryable
            add(AdapterCheck("errors_classifiable", ok,
                             f"{type(exc).__name__} classified as {info}" + ("" if ok else " (bad input must not be retryable)")))
        except Exception as inner:  # classify_error must never raise
            add(AdapterCheck("errors_classifiable", False, f"classify_error raised {type(inner).__name__}: {inner}"))

    # 7. the cache identity covers every answer-changing parameter
    if factory is not None:
        if variants is None:
            raise ConfigError("`variants` must map every parameter of `factory` to an alternative value, got None")
        report.checks.extend(cache_key_checks(factory, base or {}, variants, neutral, fixed))

    if raise_on_failure and not report.passed:
        raise ModelError(
            f"the model adapter failed {len(report.failures)} conformance check(s); fix them and run "
            f"check_model_adapter again:\n{report.summary()}"
        )
    return report
