"""The model protocol: ``BaseLLM`` for classes, plain sync/async functions for everything else,
and :func:`as_callable` that turns either into the one ``callable(problem)`` the engine calls.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import ConfigError
from ._prompt import PromptFn, make_prompt_builder

__all__ = ["BaseLLM", "ModelFn", "as_callable", "supports_batch", "is_async_callable", "model_name"]

ModelFn = Callable[[Any], str | Awaitable[str]]


class BaseLLM:
    """Base class for a model (DeepEval style).

    Implement ``generate(prompt: str) -> str``. Optionally implement ``async a_generate(prompt)``
    (preferred by :func:`as_callable` so calls run on the event loop), and
    ``batch_generate(prompts: list[str]) -> list[str]`` (see :func:`supports_batch`), and override
    ``get_model_name()`` (default: the class name).

    A ``BaseLLM`` is itself a sync ``callable(problem) -> str``: the problem is turned into a
    prompt with the class attributes ``prompt_key`` / ``prompt_fn`` (default: the question text,
    see :func:`~bayesbench.models.default_prompt`).
    """

    prompt_key: str | None = None
    prompt_fn: PromptFn | None = None

    def generate(self, prompt: str) -> str:
        raise NotImplementedError(
            f"{type(self).__name__} must implement generate(self, prompt: str) -> str "
            "(and may add async a_generate(self, prompt) and batch_generate(self, prompts))"
        )

    def get_model_name(self) -> str:
        return type(self).__name__

    def build_prompt(self, problem: Any) -> str:
        """The prompt text this model would send for ``problem``."""
        return make_prompt_builder(self.prompt_key, self.prompt_fn)(problem)

    def __call__(self, problem: Any) -> str:
        return self.generate(self.build_prompt(problem))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.get_model_name()!r})"


def _has_async_generate(model: Any) -> bool:
    method = getattr(model, "a_generate", None)
    return method is not None and inspect.iscoroutinefunction(method)


def is_async_callable(fn: Any) -> bool:
    """True for ``async def`` functions, objects with an ``async def __call__`` and partials of them."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 -- the __call__ itself is inspected, not callability
    return call is not None and inspect.iscoroutinefunction(call)


def supports_batch(model: Any) -> bool:
    """True when ``model`` (or the model behind an :func:`as_callable` wrapper) has a callable
    ``batch_generate(prompts) -> list[str]`` a run loop may use to send a whole batch at once."""
    inner = getattr(model, "__bayesbench_model__", model)
    return callable(getattr(inner, "batch_generate", None))


def model_name(model: Any) -> str:
    """A display name: ``get_model_name()``, else ``model_name`` attribute, else ``__name__``."""
    inner = getattr(model, "__bayesbench_model__", model)
    getter = getattr(inner, "get_model_name", None)
    if callable(getter):
        return str(getter())
    for attr in ("model_name", "__name__"):
        value = getattr(inner, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(inner).__name__


def as_callable(
    model_or_fn: Any,
    *,
    prompt_fn: PromptFn | None = None,
    prompt_key: str | None = None,
) -> ModelFn:
    """Turn a :class:`BaseLLM`, an adapter, or a sync/async function into ``callable(problem)``.

    * A ``BaseLLM`` (anything with ``generate``): the problem becomes a prompt (``prompt_fn`` /
      ``prompt_key`` here, else the model's own, else the question text) and goes to
      ``a_generate`` when the model has one (the result is an ``async def``), else ``generate``.
    * A function: called with the problem itself; if ``prompt_fn`` or ``prompt_key`` is given it
      is called with the prompt text instead. Async functions stay async.

    The result carries ``model_name`` and ``__bayesbench_model__`` (the wrapped object), so
    :func:`supports_batch` and :func:`model_name` see through it.
    """
    if prompt_fn is not None and prompt_key is not None:
        make_prompt_builder(prompt_key, prompt_fn)  # raises the uniform ConfigError
    name = model_name(model_or_fn)
    generate = getattr(model_or_fn, "generate", None)
    wrapped: Callable[..., Any]
    if callable(generate) and not inspect.isroutine(model_or_fn):
        if prompt_fn is None and prompt_key is None:
            builder = getattr(model_or_fn, "build_prompt", None)
            if not callable(builder):
                builder = make_prompt_builder(getattr(model_or_fn, "prompt_key", None), getattr(model_or_fn, "prompt_fn", None))
        else:
            builder = make_prompt_builder(prompt_key, prompt_fn)
        if _has_async_generate(model_or_fn):
            a_generate = model_or_fn.a_generate

            async def call_async_model(problem: Any) -> str:
                return await a_generate(builder(problem))

            wrapped = call_async_model
        else:

            def call_model(problem: Any) -> str:
                return generate(builder(problem))

            wrapped = call_model
    elif callable(model_or_fn):
        fn = model_or_fn
        if prompt_fn is None and prompt_key is None:
            if is_async_callable(fn):

                async def call_async_fn(problem: Any) -> str:
                    return await fn(problem)

                wrapped = call_async_fn
            else:

                def call_fn(problem: Any) -> str:
                    return fn(problem)

                wrapped = call_fn
        else:
            builder = make_prompt_builder(prompt_key, prompt_fn)
            if is_async_callable(fn):

                async def call_async_fn_prompt(problem: Any) -> str:
                    return await fn(builder(problem))

                wrapped = call_async_fn_prompt
            else:

                def call_fn_prompt(problem: Any) -> str:
                    return fn(builder(problem))

                wrapped = call_fn_prompt
    else:
        raise ConfigError(
            f"a model must be a BaseLLM (with generate(prompt)), an adapter, or a function problem -> str, "
            f"got {type(model_or_fn).__name__}; wrap your client in a function or subclass BaseLLM"
        )
    wrapped.__name__ = wrapped.__qualname__ = name
    # The response cache keys on what is wrapped (and how prompts are built), not on this wrapper.
    inner = getattr(model_or_fn, "cache_key", None)
    if inner is None:
        inner = f"{getattr(model_or_fn, '__module__', '')}.{getattr(model_or_fn, '__qualname__', type(model_or_fn).__qualname__)}"
    if prompt_fn is None and prompt_key is None:
        wrapped.cache_key = inner  # type: ignore[attr-defined]
    else:
        how = prompt_key or f"{getattr(prompt_fn, '__module__', '')}.{getattr(prompt_fn, '__qualname__', '')}"
        base = inner() if callable(inner) else inner
        wrapped.cache_key = f"{base}|prompt:{how}"  # type: ignore[attr-defined]
    wrapped.model_name = name  # type: ignore[attr-defined]
    wrapped.__bayesbench_model__ = model_or_fn  # type: ignore[attr-defined]
    return wrapped
