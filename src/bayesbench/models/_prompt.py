"""Turning a problem into the text a model sees, the same way for every adapter.

The rule that matters: never ``str(problem)``. A problem dict usually carries its answer, and
sending the whole dict leaks it to the model (the original bayesbench did exactly that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError, DatasetError

__all__ = ["PROMPT_KEYS", "default_prompt", "make_prompt_builder"]

#: Keys (or attributes) looked up, in this order, by :func:`default_prompt`.
PROMPT_KEYS: tuple[str, ...] = ("question", "prompt", "input")

PromptFn = Callable[[Any], str]


def _describe_keys(problem: Any) -> str:
    # Only names, never values: values may hold the answer or private data.
    if isinstance(problem, Mapping):
        return "its keys are " + repr(sorted(map(str, problem.keys())))
    names = [n for n in vars(problem)] if hasattr(problem, "__dict__") else []
    return f"it is a {type(problem).__name__}" + (f" with attributes {sorted(names)!r}" if names else "")


def _lookup(problem: Any, key: str) -> tuple[bool, Any]:
    if isinstance(problem, Mapping):
        return (key in problem, problem.get(key))
    if hasattr(problem, key):
        return True, getattr(problem, key)
    return False, None


def _as_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    raise DatasetError(
        f"the prompt text in {where} must be a str, got {type(value).__name__}; "
        "pass prompt_fn= to build a string from this problem"
    )


def default_prompt(problem: Any) -> str:
    """The question text of ``problem``: the problem itself if it is a ``str``, else the first of
    the keys (or attributes) ``question``, ``prompt``, ``input`` that exists.

    Raises :class:`~bayesbench.errors.DatasetError` when none exists, naming the keys it saw (never
    their values) and how to choose one: ``prompt_key=`` or ``prompt_fn=``.
    """
    if isinstance(problem, str):
        return problem
    for key in PROMPT_KEYS:
        found, value = _lookup(problem, key)
        if found:
            return _as_text(value, f"problem[{key!r}]")
    raise DatasetError(
        f"cannot find the question text in the problem: it has none of the keys {list(PROMPT_KEYS)} "
        f"({_describe_keys(problem)}); pass prompt_key='<the key holding the question>' or "
        "prompt_fn=lambda problem: ... to say what to send to the model"
    )


def make_prompt_builder(prompt_key: str | None = None, prompt_fn: PromptFn | None = None) -> PromptFn:
    """One function ``problem -> str`` from the adapter options ``prompt_key`` / ``prompt_fn``.

    At most one of them may be given; with neither, :func:`default_prompt` is used.
    """
    if prompt_key is not None and prompt_fn is not None:
        raise ConfigError(
            "`prompt_key` and `prompt_fn` are mutually exclusive, got both; "
            "pass prompt_key= to pick a field or prompt_fn= to build the text, not both"
        )
    if prompt_fn is not None:
        if not callable(prompt_fn):
            raise ConfigError(f"`prompt_fn` must be a callable problem -> str, got {type(prompt_fn).__name__}")
        fn = prompt_fn

        def build_with_fn(problem: Any) -> str:
            text = fn(problem)
            if not isinstance(text, str):
                raise ConfigError(f"`prompt_fn` must return a str, got {type(text).__name__}")
            return text

        return build_with_fn
    if prompt_key is not None:
        if not isinstance(prompt_key, str) or not prompt_key:
            raise ConfigError(f"`prompt_key` must be a non-empty str, got {prompt_key!r}")
        key = prompt_key

        def build_with_key(problem: Any) -> str:
            if isinstance(problem, str):
                return problem
            found, value = _lookup(problem, key)
            if not found:
                raise DatasetError(
                    f"the problem has no key {key!r} ({_describe_keys(problem)}); "
                    "fix prompt_key= or pass prompt_fn= to build the text"
                )
            return _as_text(value, f"problem[{key!r}]")

        return build_with_key
    return default_prompt
