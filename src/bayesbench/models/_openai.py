"""OpenAI-compatible adapter: OpenAI itself and every server speaking its protocol (vLLM,
llama.cpp server, Ollama, LM Studio, TGI, OpenRouter ...) through the official ``openai`` SDK."""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError
from ._common import require
from ._completion import Completion
from ._errors import IncompleteResponse, MalformedResponse
from ._prompt import PromptFn
from ._provider import AsyncProviderModel, StreamState, usage_dict, validate_stop, validate_stream

__all__ = ["OpenAIModel", "openai_model"]

# Local servers ignore the key but the SDK insists on one.
_PLACEHOLDER_KEY = "not-needed"


class OpenAIModel(AsyncProviderModel):
    """A model behind an OpenAI-compatible API. Build it with :func:`openai_model`.

    Sync calls (``model(problem)``, ``generate``) use ``openai.OpenAI``; async calls
    (``a_generate``, preferred by :func:`~bayesbench.models.as_callable`) use one
    ``openai.AsyncOpenAI`` per event loop. Both run with ``max_retries=0``.
    """

    provider = "openai"
    env_var = "OPENAI_API_KEY"
    end_marker = "a finish_reason"

    def __init__(self, model: str, *, stream: bool, stop: list[str] | None, **options: Any) -> None:
        self._openai = require("openai", package="openai", extra="openai", feature="openai_model()")
        super().__init__(model, **options)
        if not self._api_key:
            # The SDK reads OPENAI_BASE_URL itself; a local server there needs no key either.
            if self.base_url is None and not os.environ.get("OPENAI_BASE_URL"):
                raise ConfigError(
                    "openai_model() needs an API key: set the OPENAI_API_KEY environment variable or pass api_key=...; "
                    "for a local OpenAI-compatible server pass base_url='http://127.0.0.1:PORT/v1' (no key needed)"
                )
        self.stream = validate_stream(stream)
        self.stop = validate_stop(stop)

    @property
    def protocol(self) -> str:  # type: ignore[override]
        return "an OpenAI chat completion" if self.mode == "chat" else "an OpenAI text completion"

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self._api_key.reveal() or _PLACEHOLDER_KEY,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": 0,  # retries are the execution layer's job
        }

    def _open(self) -> Any:
        return self._openai.OpenAI(**self._client_kwargs())

    def _open_async(self) -> Any:
        return self._openai.AsyncOpenAI(**self._client_kwargs())

    def _answer_parameters(self) -> dict[str, Any]:
        return {**super()._answer_parameters(), "stream": self.stream, "stop": self.stop}

    # -- request and response ---------------------------------------------------------------
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

    def _send(self, client: Any, prompt: str) -> Any:
        endpoint = client.chat.completions if self.mode == "chat" else client.completions
        return endpoint.create(**self._request(prompt))

    def _parse(self, response: Any) -> Completion:
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list):
            raise MalformedResponse(f"malformed response: the body is not {self.protocol} (no `choices` list)")
        if not choices:
            raise IncompleteResponse("incomplete response: `choices` is empty, there is no answer")
        choice = choices[0]
        if self.mode == "chat":
            text = choice.message.content
            if text is None:  # a refusal is the model's answer; anything else without text is not one
                text = getattr(choice.message, "refusal", None)
        else:
            text = choice.text
        if not isinstance(text, str):
            raise IncompleteResponse(
                f"incomplete response: the answer text is {text!r} (finish_reason={choice.finish_reason!r})"
            )
        usage = response.usage
        return Completion(
            text,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
            model=getattr(response, "model", None),
            finish_reason=getattr(choice, "finish_reason", None),
            raw_usage=usage_dict(usage),
        )

    def _on_event(self, state: StreamState, chunk: Any) -> None:
        state.model = getattr(chunk, "model", None) or state.model
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            state.input_tokens = getattr(usage, "prompt_tokens", None)
            state.output_tokens = getattr(usage, "completion_tokens", None)
            state.usage = usage_dict(usage) or {}
        for choice in getattr(chunk, "choices", None) or []:
            state.add_text(getattr(choice.delta, "content", None) if self.mode == "chat" else getattr(choice, "text", None))
            if getattr(choice, "finish_reason", None):  # the end of the answer; [DONE] only ends the stream
                state.finish_reason = choice.finish_reason
                state.done = True


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
    return OpenAIModel(**locals())  # every parameter above, by name
