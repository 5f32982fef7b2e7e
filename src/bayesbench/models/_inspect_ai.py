"""Inspect AI: use an Inspect model as a bayesbench model, and an Inspect dataset as problems."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterable
from typing import Any

from .._validate import finite_float, positive_int
from ..errors import ConfigError, DatasetError
from ._base import BaseLLM
from ._common import require
from ._completion import Completion
from ._prompt import PromptFn, make_prompt_builder

__all__ = ["InspectModel", "inspect_model", "from_inspect_dataset", "inspect_output_to_completion", "sample_to_problem"]


def _content_text(content: Any) -> str:
    """Text of an Inspect message content: a str, or a list of content parts with ``.text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        return "".join(str(getattr(part, "text", "") or "") for part in content)
    return str(getattr(content, "text", "") or "")


def inspect_output_to_completion(output: Any) -> Completion:
    """Convert an Inspect ``ModelOutput`` (``.completion``, ``.usage``, ``.stop_reason``, ``.model``)."""
    usage = getattr(output, "usage", None)
    raw = None
    if usage is not None:
        dump = getattr(usage, "model_dump", None)
        raw = dump() if callable(dump) else None
    if getattr(output, "error", None):
        raise RuntimeError(f"Inspect model returned an error: {output.error}")
    return Completion(
        getattr(output, "completion", "") or "",
        input_tokens=getattr(usage, "input_tokens", None),
        output_tokens=getattr(usage, "output_tokens", None),
        model=getattr(output, "model", None),
        finish_reason=(str(getattr(output, "stop_reason", "")) or None),
        raw_usage=raw,
    )


def _run_coroutine(coro: Any) -> Any:
    """Run a coroutine from sync code, also when an event loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class InspectModel(BaseLLM):
    """An Inspect AI model (``inspect_ai.model.Model``). Build it with :func:`inspect_model`."""

    def __init__(
        self,
        model: Any,
        *,
        prompt_key: str | None,
        prompt_fn: PromptFn | None,
        system_prompt: str | None,
        temperature: float,
        max_tokens: int,
        seed: int | None,
        timeout: float | None,
    ) -> None:
        self._inspect_model_mod = require("inspect_ai.model", package="inspect-ai", extra="inspect", feature="inspect_model()")
        if isinstance(model, str):
            model = self._inspect_model_mod.get_model(model)
        elif not callable(getattr(model, "generate", None)):
            raise ConfigError(f"`model` must be an Inspect model name like 'openai/gpt-4o' or an inspect_ai Model, got {type(model).__name__}")
        self._model = model
        self.prompt_key, self.prompt_fn = prompt_key, prompt_fn
        self._builder = make_prompt_builder(prompt_key, prompt_fn)
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise ConfigError(f"`system_prompt` must be a str or None, got {type(system_prompt).__name__}")
        self.system_prompt = system_prompt
        self.temperature = finite_float("temperature", temperature)
        self.max_tokens = positive_int("max_tokens", max_tokens)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"`seed` must be an int or None, got {seed!r}")
        self.seed = seed
        self.timeout = timeout

    def get_model_name(self) -> str:
        return str(getattr(self._model, "name", None) or self._model)

    def build_prompt(self, problem: Any) -> str:
        return self._builder(problem)

    def _input(self, prompt: str) -> list[Any]:
        m = self._inspect_model_mod
        messages = [m.ChatMessageSystem(content=self.system_prompt)] if self.system_prompt else []
        messages.append(m.ChatMessageUser(content=prompt))
        return messages

    def _config(self) -> Any:
        fields: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens, "max_retries": 0}
        if self.seed is not None:
            fields["seed"] = self.seed
        if self.timeout is not None:
            fields["timeout"] = int(self.timeout)
        return self._inspect_model_mod.GenerateConfig(**fields)

    async def a_generate(self, prompt: str) -> Completion:
        output = await self._model.generate(input=self._input(prompt), config=self._config())
        return inspect_output_to_completion(output)

    def generate(self, prompt: str) -> Completion:
        return _run_coroutine(self.a_generate(prompt))

    async def acall(self, problem: Any) -> Completion:
        return await self.a_generate(self.build_prompt(problem))


def inspect_model(
    model: Any,
    *,
    prompt_key: str | None = None,
    prompt_fn: PromptFn | None = None,
    system_prompt: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = 512,
    seed: int | None = None,
    timeout: float | None = 60.0,
) -> InspectModel:
    """Any model Inspect AI can call (``"openai/gpt-4o"``, ``"ollama/llama3"``, ``"mockllm/model"`` ...)
    or an ``inspect_ai.model.Model`` object. Async (``a_generate``); Inspect's own retries are off
    (``max_retries=0``). Options as for :func:`~bayesbench.adapters.openai_compat.openai_model`."""
    return InspectModel(
        model,
        prompt_key=prompt_key,
        prompt_fn=prompt_fn,
        system_prompt=system_prompt,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
        timeout=timeout,
    )


def sample_to_problem(sample: Any, index: int = 0) -> dict[str, Any]:
    """One Inspect ``Sample`` (``input``, ``target``, ``choices``, ``id``, ``metadata``) as a problem dict.

    ``input`` becomes text (the user messages' text when it is a message list; the messages are
    also kept under ``messages``); ``answer`` is the target (a one-element target list is
    unwrapped); ``choices`` and ``metadata`` are kept.
    """
    raw_input = getattr(sample, "input", None)
    if raw_input is None:
        raise DatasetError(f"Inspect sample {index} has no `input`; every Sample needs input text or messages")
    problem: dict[str, Any] = {"id": str(getattr(sample, "id", None) if getattr(sample, "id", None) is not None else index)}
    if isinstance(raw_input, str):
        problem["input"] = raw_input
    else:
        messages = [{"role": str(getattr(m, "role", "user")), "content": _content_text(getattr(m, "content", ""))} for m in raw_input]
        problem["messages"] = messages
        problem["input"] = "\n\n".join(m["content"] for m in messages if m["role"] == "user")
    target = getattr(sample, "target", "")
    if isinstance(target, (list, tuple)):
        target = list(target)
        problem["answer"] = target[0] if len(target) == 1 else target
    else:
        problem["answer"] = target
    choices = getattr(sample, "choices", None)
    if choices:
        problem["choices"] = list(choices)
    metadata = getattr(sample, "metadata", None)
    if metadata:
        problem["metadata"] = dict(metadata)
    return problem


def from_inspect_dataset(dataset: Any, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Problems from an Inspect ``Dataset`` (or a ``Task``, or any iterable of ``Sample``).

    Works on any objects shaped like Inspect's (attributes ``input``, ``target``, ...), so it
    does not import ``inspect_ai`` itself. See :func:`sample_to_problem` for the mapping.
    """
    if limit is not None:
        positive_int("limit", limit)
    samples = getattr(dataset, "dataset", dataset)  # a Task carries its dataset
    if isinstance(samples, (str, bytes)) or not isinstance(samples, Iterable):
        raise DatasetError(
            f"from_inspect_dataset() needs an Inspect Dataset, Task or list of Samples, got {type(dataset).__name__}"
        )
    problems = []
    for i, sample in enumerate(samples):
        if limit is not None and i >= limit:
            break
        problems.append(sample_to_problem(sample, i))
    if not problems:
        raise DatasetError("the Inspect dataset is empty; give it at least one Sample")
    return problems
