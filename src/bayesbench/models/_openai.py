"""OpenAI-compatible adapter: OpenAI itself and every server speaking its protocol (vLLM,
llama.cpp server, Ollama, LM Studio, TGI, OpenRouter ...) through the official ``openai`` SDK."""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from typing import Any

from ..errors import ConfigError
from ._common import ProviderModel, require
from ._completion import Completion
from ._prompt import PromptFn

__all__ = ["OpenAIModel", "openai_model"]

# Local servers ignore the key but the SDK insists on one.
_PLACEHOLDER_KEY = "not-needed"


def _usage_dict(usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return None
    dump = getattr(usage, "model_dump", None)
    return dump() if callable(dump) else dict(usage)


class OpenAIModel(ProviderModel):
    """A model behind an OpenAI-compatible API. Build it with :func:`openai_model`.

    Sync calls (``model(problem)``, ``generate``) use ``openai.OpenAI``; async calls
    (``a_generate``, preferred by :func:`~bayesbench.models.as_callable`) use one
    ``openai.AsyncOpenAI`` per event loop. Both run with ``max_retries=0``.
    """

    provider = "openai"
    env_var = "OPENAI_API_KEY"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None,
        api_key: str | None,
        prompt_key: str | None,
        prompt_fn: PromptFn | None,
        system_prompt: str | None,
        mode: str,
        temperature: float,
        max_tokens: int,
        seed: int | None,
        timeout: float | None,
        stream: bool,
        stop: list[str] | None,
    ) -> None:
        self._openai = require("openai", package="openai", extra="openai", feature="openai_model()")
        super().__init__(
            model,
            prompt_key=prompt_key,
            prompt_fn=prompt_fn,
            system_prompt=system_prompt,
            mode=mode,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            timeout=timeout,
            api_key=api_key,
            base_url=base_url,
        )
        if not self._api_key:
            # The SDK reads OPENAI_BASE_URL itself; a local server there needs no key either.
            if base_url is None and not os.environ.get("OPENAI_BASE_URL"):
                raise ConfigError(
                    "openai_model() needs an API key: set the OPENAI_API_KEY environment variable or pass api_key=...; "
                    "for a local OpenAI-compatible server pass base_url='http://127.0.0.1:PORT/v1' (no key needed)"
                )
            self._key_value = _PLACEHOLDER_KEY
        else:
            self._key_value = None
        if not isinstance(stream, bool):
            raise ConfigError(f"`stream` must be True or False, got {stream!r}")
        if stop is not None and (not isinstance(stop, list) or not all(isinstance(s, str) for s in stop)):
            raise ConfigError(f"`stop` must be a list of str or None, got {stop!r}")
        self.stream = stream
        self.stop = stop
        self._client = self._openai.OpenAI(**self._client_kwargs())
        self._async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key.reveal() or self._key_value,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": 0,  # retries are the execution layer's job
        }

    def _async_client(self) -> Any:
        # An httpx AsyncClient's pool is bound to the loop that created it.
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._openai.AsyncOpenAI(**self._client_kwargs())
            self._async_clients[loop] = client
        return client

    # -- request building ------------------------------------------------------------------
    def _request(self, prompt: str) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            params["seed"] = self.seed
        if self.stop:
            params["stop"] = self.stop
        if self.mode == "chat":
            params["messages"] = self._messages(prompt)
        else:
            params["prompt"] = self._completion_prompt(prompt)
        if self.stream:
            params["stream"] = True
            params["stream_options"] = {"include_usage": True}
        return params

    def _endpoint(self, client: Any) -> Any:
        return client.chat.completions if self.mode == "chat" else client.completions

    def _from_response(self, response: Any) -> Completion:
        choice = response.choices[0] if response.choices else None
        if choice is None:
            text = ""
        elif self.mode == "chat":
            text = choice.message.content or ""
        else:
            text = choice.text or ""
        usage = response.usage
        return Completion(
            text,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
            model=getattr(response, "model", None),
            finish_reason=getattr(choice, "finish_reason", None),
            raw_usage=_usage_dict(usage),
        )

    class _StreamState:
        def __init__(self, start: float) -> None:
            self.start = start
            self.parts: list[str] = []
            self.ttft: float | None = None
            self.usage: Any = None
            self.model: str | None = None
            self.finish: str | None = None

    def _on_chunk(self, state: "OpenAIModel._StreamState", chunk: Any) -> None:
        state.model = getattr(chunk, "model", None) or state.model
        if getattr(chunk, "usage", None) is not None:
            state.usage = chunk.usage
        for choice in getattr(chunk, "choices", None) or []:
            piece = (getattr(choice.delta, "content", None) if self.mode == "chat" else getattr(choice, "text", None)) or ""
            if piece and state.ttft is None:
                state.ttft = time.perf_counter() - state.start
            state.parts.append(piece)
            if getattr(choice, "finish_reason", None):
                state.finish = choice.finish_reason

    @staticmethod
    def _from_stream(state: "OpenAIModel._StreamState") -> Completion:
        return Completion(
            "".join(state.parts),
            input_tokens=getattr(state.usage, "prompt_tokens", None),
            output_tokens=getattr(state.usage, "completion_tokens", None),
            ttft_s=state.ttft,
            model=state.model,
            finish_reason=state.finish,
            raw_usage=_usage_dict(state.usage),
        )

    # -- calls ------------------------------------------------------------------------------
    def generate(self, prompt: str) -> Completion:
        params = self._request(prompt)
        try:
            start = time.perf_counter()
            response = self._endpoint(self._client).create(**params)
            if not self.stream:
                return self._from_response(response)
            state = self._StreamState(start)
            with response:
                for chunk in response:
                    self._on_chunk(state, chunk)
            return self._from_stream(state)
        except Exception as exc:
            self._reraise(exc)

    async def a_generate(self, prompt: str) -> Completion:
        params = self._request(prompt)
        try:
            start = time.perf_counter()
            response = await self._endpoint(self._async_client()).create(**params)
            if not self.stream:
                return self._from_response(response)
            state = self._StreamState(start)
            async with response:
                async for chunk in response:
                    self._on_chunk(state, chunk)
            return self._from_stream(state)
        except Exception as exc:
            self._reraise(exc)

    async def acall(self, problem: Any) -> Completion:
        """Async twin of ``model(problem)``."""
        return await self.a_generate(self.build_prompt(problem))

    def close(self) -> None:
        """Close the sync client (async clients close with their event loop)."""
        self._client.close()


def openai_model(
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    prompt_key: str | None = None,
    prompt_fn: PromptFn | None = None,
    system_prompt: str | None = None,
    mode: str = "chat",
    temperature: float = 0.0,
    max_tokens: int = 512,
    seed: int | None = None,
    timeout: float | None = 60.0,
    stream: bool = False,
    stop: list[str] | None = None,
) -> OpenAIModel:
    """A model behind the OpenAI API or any OpenAI-compatible server.

    Args:
        model: the model name the server knows (``"gpt-4o-mini"``, a vLLM/llama.cpp alias ...).
        base_url: the API root including ``/v1`` (``http://127.0.0.1:8000/v1``); default: OpenAI,
            or the ``OPENAI_BASE_URL`` environment variable.
        api_key: default: the ``OPENAI_API_KEY`` environment variable; not needed with ``base_url``.
        prompt_key, prompt_fn: which problem field to send, or how to build the text (default:
            the ``question`` / ``prompt`` / ``input`` field).
        system_prompt: sent as a system message (chat) or prepended with a blank line (completion).
        mode: ``"chat"`` (``/chat/completions``) or ``"completion"`` (``/completions``).
        temperature: default 0.0 (greedy, for reproducible benchmarks).
        max_tokens: maximum tokens to generate, default 512.
        seed: sent as ``seed`` (OpenAI and most local servers honour it), default None.
        timeout: seconds per request, default 60; None waits forever.
        stream: stream the answer to measure time-to-first-token (``Completion.ttft_s``).
        stop: stop sequences.

    Returns an :class:`OpenAIModel`: ``model(problem)`` is a sync call returning a
    :class:`~bayesbench.models.Completion`; ``a_generate`` / ``acall`` are the async versions.
    """
    return OpenAIModel(
        model,
        base_url=base_url,
        api_key=api_key,
        prompt_key=prompt_key,
        prompt_fn=prompt_fn,
        system_prompt=system_prompt,
        mode=mode,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
        timeout=timeout,
        stream=stream,
        stop=stop,
    )
