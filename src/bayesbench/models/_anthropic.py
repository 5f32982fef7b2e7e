"""Anthropic adapter: the Messages API through the official ``anthropic`` SDK."""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import ConfigError
from ._common import require
from ._completion import Completion
from ._errors import IncompleteResponse, MalformedResponse
from ._prompt import PromptFn
from ._provider import AsyncProviderModel, StreamState, usage_dict, validate_stop, validate_stream

__all__ = ["AnthropicModel", "anthropic_model"]


class AnthropicModel(AsyncProviderModel):
    """A Claude model through the Messages API. Build it with :func:`anthropic_model`."""

    provider = "anthropic"
    env_var = "ANTHROPIC_API_KEY"
    protocol = "an Anthropic message"
    end_marker = "message_stop"

    def __init__(self, model: str, *, stream: bool, stop: list[str] | None, **options: Any) -> None:
        self._anthropic = require("anthropic", package="anthropic", extra="anthropic", feature="anthropic_model()")
        super().__init__(model, **options)
        if self.mode != "chat":
            raise ConfigError(
                "`mode` must be 'chat' for anthropic_model() (the Messages API has no plain completion endpoint), "
                f"got {self.mode!r}; drop mode= or use a model served with an OpenAI-compatible /completions endpoint"
            )
        if self.seed is not None:
            raise ConfigError(
                f"`seed` is not supported by the Anthropic Messages API, got seed={self.seed!r}; drop seed= "
                "(use temperature=0.0 for the most repeatable answers)"
            )
        if not self._api_key and self.base_url is None:
            raise ConfigError(
                "anthropic_model() needs an API key: set the ANTHROPIC_API_KEY environment variable or pass api_key=..."
            )
        self.stream = validate_stream(stream)
        self.stop = validate_stop(stop)
        create = self._anthropic.resources.Messages.create
        self._sdk_has_temperature = "temperature" in inspect.signature(create).parameters

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key.reveal() or "not-needed",
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": 0,  # retries are the execution layer's job
        }

    def _open(self) -> Any:
        return self._anthropic.Anthropic(**self._client_kwargs())

    def _open_async(self) -> Any:
        return self._anthropic.AsyncAnthropic(**self._client_kwargs())

    def _answer_parameters(self) -> dict[str, Any]:
        return {**super()._answer_parameters(), "stream": self.stream, "stop": self.stop}

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

    def _send(self, client: Any, prompt: str) -> Any:
        return client.messages.create(**self._request(prompt))

    def _parse(self, message: Any) -> Completion:
        content = getattr(message, "content", None)
        if not isinstance(content, list):
            raise MalformedResponse(f"malformed response: the body is not {self.protocol} (no `content` list)")
        texts = [getattr(block, "text", None) for block in content if getattr(block, "type", "") == "text"]
        if not texts:
            raise IncompleteResponse(
                f"incomplete response: `content` holds no text block (stop_reason={getattr(message, 'stop_reason', None)!r})"
            )
        if not all(isinstance(t, str) for t in texts):
            raise IncompleteResponse("incomplete response: a text block's `text` is null")
        usage = message.usage
        return Completion(
            "".join(texts),
            input_tokens=getattr(usage, "input_tokens", None),
            output_tokens=getattr(usage, "output_tokens", None),
            model=getattr(message, "model", None),
            finish_reason=getattr(message, "stop_reason", None),
            raw_usage=usage_dict(usage),
        )

    def _on_event(self, state: StreamState, event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind == "message_start":
            state.model = getattr(event.message, "model", None)
            usage = getattr(event.message, "usage", None)
            if usage is not None:
                state.input_tokens = getattr(usage, "input_tokens", None)
                state.usage.update(usage_dict(usage) or {})
        elif kind == "content_block_start":
            if getattr(event.content_block, "type", "") == "text":
                state.blocks += 1
        elif kind == "content_block_delta":
            state.add_text(getattr(event.delta, "text", None))
        elif kind == "message_delta":
            state.finish_reason = getattr(event.delta, "stop_reason", None) or state.finish_reason
            usage = getattr(event, "usage", None)
            if usage is not None:
                state.output_tokens = getattr(usage, "output_tokens", None)
                state.usage.update({k: v for k, v in (usage_dict(usage) or {}).items() if v is not None})
        elif kind == "message_stop":
            if not state.blocks:
                raise IncompleteResponse(
                    f"incomplete response: the stream held no text block (stop_reason={state.finish_reason!r})")
            state.done = True


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
    return AnthropicModel(**locals())  # every parameter above, by name
