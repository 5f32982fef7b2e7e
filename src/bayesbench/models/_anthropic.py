"""Anthropic adapter: the Messages API through the official ``anthropic`` SDK."""

from __future__ import annotations

import asyncio
import inspect
import time
import weakref
from typing import Any

from ..errors import ConfigError
from ._common import ProviderModel, require
from ._completion import Completion
from ._prompt import PromptFn

__all__ = ["AnthropicModel", "anthropic_model"]


def _usage_dict(usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return None
    dump = getattr(usage, "model_dump", None)
    return dump() if callable(dump) else dict(usage)


class AnthropicModel(ProviderModel):
    """A Claude model through the Messages API. Build it with :func:`anthropic_model`."""

    provider = "anthropic"
    env_var = "ANTHROPIC_API_KEY"

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
        self._anthropic = require("anthropic", package="anthropic", extra="anthropic", feature="anthropic_model()")
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
        if self.mode != "chat":
            raise ConfigError(
                "`mode` must be 'chat' for anthropic_model() (the Messages API has no plain completion endpoint), "
                f"got {mode!r}; drop mode= or use a model served with an OpenAI-compatible /completions endpoint"
            )
        if seed is not None:
            raise ConfigError(
                f"`seed` is not supported by the Anthropic Messages API, got seed={seed!r}; drop seed= "
                "(use temperature=0.0 for the most repeatable answers)"
            )
        if not self._api_key and base_url is None:
            raise ConfigError(
                "anthropic_model() needs an API key: set the ANTHROPIC_API_KEY environment variable or pass api_key=..."
            )
        if not isinstance(stream, bool):
            raise ConfigError(f"`stream` must be True or False, got {stream!r}")
        if stop is not None and (not isinstance(stop, list) or not all(isinstance(s, str) for s in stop)):
            raise ConfigError(f"`stop` must be a list of str or None, got {stop!r}")
        self.stream = stream
        self.stop = stop
        self._client = self._anthropic.Anthropic(**self._client_kwargs())
        self._sdk_has_temperature = "temperature" in inspect.signature(self._client.messages.create).parameters
        self._async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key.reveal() or "not-needed",
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": 0,  # retries are the execution layer's job
        }

    def _async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._anthropic.AsyncAnthropic(**self._client_kwargs())
            self._async_clients[loop] = client
        return client

    def _request(self, prompt: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": [{"role": "user", "content": prompt}],
        }
        if self._sdk_has_temperature:
            params["temperature"] = self.temperature
        else:  # newer SDKs dropped the typed parameter; the API field is still sent
            params["extra_body"] = {"temperature": self.temperature}
        if self.system_prompt:
            params["system"] = self.system_prompt
        if self.stop:
            params["stop_sequences"] = self.stop
        if self.stream:
            params["stream"] = True
        return params

    @staticmethod
    def _from_message(message: Any) -> Completion:
        text = "".join(getattr(block, "text", "") for block in message.content if getattr(block, "type", "") == "text")
        usage = message.usage
        return Completion(
            text,
            input_tokens=getattr(usage, "input_tokens", None),
            output_tokens=getattr(usage, "output_tokens", None),
            model=getattr(message, "model", None),
            finish_reason=getattr(message, "stop_reason", None),
            raw_usage=_usage_dict(usage),
        )

    class _StreamState:
        def __init__(self, start: float) -> None:
            self.start = start
            self.parts: list[str] = []
            self.ttft: float | None = None
            self.input_tokens: int | None = None
            self.output_tokens: int | None = None
            self.model: str | None = None
            self.finish: str | None = None
            self.usage: dict[str, Any] = {}

    @staticmethod
    def _on_event(state: "AnthropicModel._StreamState", event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind == "message_start":
            state.model = getattr(event.message, "model", None)
            usage = getattr(event.message, "usage", None)
            if usage is not None:
                state.input_tokens = getattr(usage, "input_tokens", None)
                state.usage.update(_usage_dict(usage) or {})
        elif kind == "content_block_delta":
            piece = getattr(event.delta, "text", None) or ""
            if piece and state.ttft is None:
                state.ttft = time.perf_counter() - state.start
            state.parts.append(piece)
        elif kind == "message_delta":
            state.finish = getattr(event.delta, "stop_reason", None) or state.finish
            usage = getattr(event, "usage", None)
            if usage is not None:
                state.output_tokens = getattr(usage, "output_tokens", None)
                state.usage.update({k: v for k, v in (_usage_dict(usage) or {}).items() if v is not None})

    @staticmethod
    def _from_stream(state: "AnthropicModel._StreamState") -> Completion:
        return Completion(
            "".join(state.parts),
            input_tokens=state.input_tokens,
            output_tokens=state.output_tokens,
            ttft_s=state.ttft,
            model=state.model,
            finish_reason=state.finish,
            raw_usage=state.usage or None,
        )

    def generate(self, prompt: str) -> Completion:
        params = self._request(prompt)
        try:
            start = time.perf_counter()
            response = self._client.messages.create(**params)
            if not self.stream:
                return self._from_message(response)
            state = self._StreamState(start)
            with response:
                for event in response:
                    self._on_event(state, event)
            return self._from_stream(state)
        except Exception as exc:
            self._reraise(exc)

    async def a_generate(self, prompt: str) -> Completion:
        params = self._request(prompt)
        try:
            start = time.perf_counter()
            response = await self._async_client().messages.create(**params)
            if not self.stream:
                return self._from_message(response)
            state = self._StreamState(start)
            async with response:
                async for event in response:
                    self._on_event(state, event)
            return self._from_stream(state)
        except Exception as exc:
            self._reraise(exc)

    async def acall(self, problem: Any) -> Completion:
        """Async twin of ``model(problem)``."""
        return await self.a_generate(self.build_prompt(problem))

    def close(self) -> None:
        self._client.close()


def anthropic_model(
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
) -> AnthropicModel:
    """A Claude model through the Anthropic Messages API.

    Args:
        model: e.g. ``"claude-3-5-haiku-latest"``.
        base_url: default: Anthropic, or the ``ANTHROPIC_BASE_URL`` environment variable.
        api_key: default: the ``ANTHROPIC_API_KEY`` environment variable.
        prompt_key, prompt_fn, system_prompt, temperature (0.0), max_tokens (512), timeout (60 s):
            as for :func:`~bayesbench.adapters.openai_compat.openai_model`.
        mode: only ``"chat"``: the Messages API has no completion endpoint.
        seed: must stay None: the API has no seed parameter (a ConfigError says so).
        stream: stream the answer to measure time-to-first-token.
        stop: stop sequences (``stop_sequences``).
    """
    return AnthropicModel(
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
