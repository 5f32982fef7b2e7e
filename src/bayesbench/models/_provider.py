"""The call path every provider adapter shares, as template methods.

:class:`ProviderModel` owns everything about a call that is not the provider's wire format:
option validation, the sync call, stream assembly, the completeness check, key redaction, error
wrapping, the cache identity and closing clients. :class:`AsyncProviderModel` adds the async twin
with one async client per event loop. An adapter implements hooks only:

* ``_open()`` (and ``_open_async()``): a new SDK client, created on first use.
* ``_send(client, prompt)``: start the request; returns the SDK's response (or, for an async
  client, an awaitable of it).
* ``_parse(response) -> Completion``: read a whole response. Raise :class:`IncompleteResponse`
  when it is not a whole answer, :class:`MalformedResponse` when it is not the protocol's shape.
* ``_on_event(state, event)``: for streaming adapters, fold one event into a :class:`StreamState`
  and set ``state.done`` when the protocol's end marker arrives.
* ``_answer_parameters()``: every option that can change an answer (the cache key).

The promises (docs/models.md): a response that is not a complete answer is an error
(``MalformedResponse`` / ``IncompleteResponse``, retryable), never a returned answer; every
exception leaves as a :class:`ModelCallError` whose text is redacted and which carries no
reference to the SDK's exception (that one holds the request, with the key in its headers);
answers are redacted too.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
import json
import math
import threading
import time
import weakref
from typing import Any, ClassVar, NoReturn

from .._validate import finite_float, one_of, positive_int
from ..errors import ConfigError
from ._base import BaseLLM
from ._completion import Completion
from ._errors import IncompleteResponse, MalformedResponse, ModelCallError, classify_error
from ._prompt import PromptFn, make_prompt_builder
from ._secret import Secret, resolve_api_key

__all__ = ["AsyncProviderModel", "ProviderModel", "StreamState", "usage_dict", "validate_stop", "validate_stream"]

_OWN_ERRORS = (ModelCallError, MalformedResponse, IncompleteResponse)
#: Exceptions a parse hook raises when the response does not have the shape it reads.
_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError)


def usage_dict(usage: Any) -> dict[str, Any] | None:
    """A provider's usage object as a plain dict (pydantic models, dicts), or None."""
    if usage is None:
        return None
    dump = getattr(usage, "model_dump", None)
    return dump() if callable(dump) else dict(usage)


def preview(value: Any, limit: int = 120) -> str:
    """A short, printable view of what a server sent."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value if isinstance(value, str) else repr(value)
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def validate_stream(stream: Any) -> bool:
    if not isinstance(stream, bool):
        raise ConfigError(f"`stream` must be True or False, got {stream!r}")
    return stream


def validate_stop(stop: Any) -> list[str] | None:
    if stop is not None and (not isinstance(stop, list) or not all(isinstance(s, str) for s in stop)):
        raise ConfigError(f"`stop` must be a list of str or None, got {stop!r}")
    return stop


def _validate_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"`timeout` must be a positive number of seconds or None, got {timeout!r}")
    return float(timeout)


def _qualname(fn: Any) -> str | None:
    if fn is None:
        return None
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


class StreamState:
    """What a streamed answer has delivered so far. ``_on_event`` hooks fill it; ``done`` must
    be set when the protocol's end marker arrives, or the answer is incomplete."""

    __slots__ = ("start", "parts", "ttft_s", "model", "finish_reason", "input_tokens", "output_tokens", "usage", "done",
                 "blocks")

    def __init__(self, start: float) -> None:
        self.start = start
        self.parts: list[str] = []
        self.ttft_s: float | None = None
        self.model: str | None = None
        self.finish_reason: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.usage: dict[str, Any] = {}
        self.done = False
        self.blocks = 0  # answer containers opened (content blocks), for protocols that have them

    def add_text(self, piece: str | None) -> None:
        if piece:
            if self.ttft_s is None:
                self.ttft_s = time.perf_counter() - self.start
            self.parts.append(piece)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class ProviderModel(BaseLLM, abc.ABC):
    """The shared call path of the provider adapters (see the module docstring). Not public;
    build adapters with the factory functions (``openai_model`` ...)."""

    #: Short provider name for messages and the cache key.
    provider: ClassVar[str] = "model"
    #: Environment variable holding the API key, if the provider has one.
    env_var: ClassVar[str | None] = None
    #: What a response should be, for error messages ("an OpenAI chat completion").
    protocol: ClassVar[str] = "an answer"
    #: The end marker of a streamed answer, for error messages.
    end_marker: ClassVar[str] = "its end marker"

    def __init__(
        self,
        model: str,
        *,
        prompt_key: str | None,
        prompt_fn: PromptFn | None,
        system_prompt: str | None,
        mode: str,
        temperature: float,
        max_tokens: int,
        seed: int | None,
        timeout: float | None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"`model` must be a non-empty str (the provider's model name), got {model!r}")
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise ConfigError(f"`system_prompt` must be a str or None, got {type(system_prompt).__name__}")
        if base_url is not None and (not isinstance(base_url, str) or not base_url.startswith(("http://", "https://"))):
            raise ConfigError(f"`base_url` must be an http(s) URL or None, got {base_url!r}")
        temperature = finite_float("temperature", temperature)
        if temperature < 0:
            raise ConfigError(f"`temperature` must be >= 0, got {temperature!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"`seed` must be an int or None, got {seed!r}")
        self.model = model
        self.prompt_key = prompt_key
        self.prompt_fn = prompt_fn
        self._builder = make_prompt_builder(prompt_key, prompt_fn)
        self.system_prompt = system_prompt
        self.mode = one_of("mode", mode, ("chat", "completion"))
        self.temperature = temperature
        self.max_tokens = positive_int("max_tokens", max_tokens)
        self.seed = seed
        self.timeout = _validate_timeout(timeout)
        self.base_url = base_url
        self._api_key = resolve_api_key(api_key, self.env_var) if self.env_var else Secret(api_key)
        self._clients_lock = threading.Lock()
        self._client: Any = None

    # -- hooks ------------------------------------------------------------------------------
    @abc.abstractmethod
    def _open(self) -> Any:
        """A new sync client (called on first use and after :meth:`close`)."""

    @abc.abstractmethod
    def _send(self, client: Any, prompt: str) -> Any:
        """Start the request for ``prompt`` on ``client``; the SDK's response (an awaitable of it
        for an async client). A stream when :meth:`_streams` is true."""

    @abc.abstractmethod
    def _parse(self, response: Any) -> Completion:
        """A whole response as a :class:`Completion`; raise :class:`IncompleteResponse` when it
        holds no whole answer, :class:`MalformedResponse` when it is not the protocol's shape."""

    def _on_event(self, state: StreamState, event: Any) -> None:
        """Fold one streamed event into ``state``; set ``state.done`` at the end marker."""
        raise NotImplementedError(f"{type(self).__name__} does not stream")

    def _streams(self) -> bool:
        return bool(getattr(self, "stream", False))

    def _answer_parameters(self) -> dict[str, Any]:
        """Every option that can change an answer. Subclasses add theirs to this dict."""
        return {
            "base_url": self.base_url,
            "model": self.model,
            "mode": self.mode,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "system_prompt": self.system_prompt,
            "prompt_key": self.prompt_key,
            "prompt_fn": _qualname(self.prompt_fn),
        }

    def _close_client(self, client: Any) -> None:
        close = getattr(client, "close", None)
        if callable(close):
            close()

    # -- prompt -------------------------------------------------------------------------------
    def build_prompt(self, problem: Any) -> str:
        return self._builder(problem)

    def _messages(self, prompt: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        messages.append({"role": "user", "content": prompt})
        return messages

    def _completion_prompt(self, prompt: str) -> str:
        return f"{self.system_prompt}\n\n{prompt}" if self.system_prompt else prompt

    # -- the call path --------------------------------------------------------------------------
    def _sync_client(self) -> Any:
        client = self._client
        if client is None:
            with self._clients_lock:
                if self._client is None:
                    self._client = self._open()
                client = self._client
        return client

    def generate(self, prompt: str) -> Completion:
        start = time.perf_counter()
        try:
            response = self._send(self._sync_client(), prompt)
            if self._streams():
                state = StreamState(start)
                with response:
                    self._check_stream(response)
                    for event in response:
                        self._on_event(state, event)
                completion = self._end_stream(state)
            else:
                completion = self._read(response)
        except Exception as exc:
            error = self._failure(exc)
        else:
            return self._deliver(completion)
        raise error  # outside the except block: no __context__ leads back to the SDK's exception

    def _read(self, response: Any) -> Completion:
        if response is None or isinstance(response, (str, bytes)):  # the SDKs hand over non-JSON bodies as text
            raise MalformedResponse(f"malformed response: the body is not {self.protocol}: {preview(response)}")
        try:
            completion = self._parse(response)
        except ModelCallError:
            raise
        except _SHAPE_ERRORS as exc:
            raise MalformedResponse(
                f"malformed response: it could not be read as {self.protocol} ({type(exc).__name__}: {exc}): "
                f"{preview(response)}"
            ) from None
        if not isinstance(completion, Completion):  # a hook bug, not the server's
            raise TypeError(f"{type(self).__name__}._parse must return a Completion, got {type(completion).__name__}")
        return completion

    def _check_stream(self, response: Any) -> None:
        http = getattr(response, "response", None)  # the SDK stream's httpx.Response, when it has one
        ctype = str(getattr(http, "headers", {}).get("content-type", "")) if http is not None else "text/event-stream"
        if "text/event-stream" not in ctype:
            raise MalformedResponse(f"malformed response: expected an event stream of {self.protocol}, got {ctype!r}")

    def _end_stream(self, state: StreamState) -> Completion:
        text = state.text
        if not state.done:
            raise IncompleteResponse(
                f"incomplete response: the stream ended before {self.end_marker}, after {len(text)} characters "
                f"({preview(text, 40)})"
            )
        return Completion(
            text,
            input_tokens=state.input_tokens,
            output_tokens=state.output_tokens,
            ttft_s=state.ttft_s,
            model=state.model,
            finish_reason=state.finish_reason,
            raw_usage=state.usage or None,
        )

    def _deliver(self, completion: Completion) -> Completion:
        """The answer, with any fragment of the API key redacted (a model may quote its context),
        in its text and in its metadata."""
        meta = completion.metadata()
        if self._api_key.leaks(str.__str__(completion)) or self._api_key.leaks(repr(meta)):
            return Completion(self._api_key.redact(str.__str__(completion)), **self._redacted(meta))
        return completion

    def _redacted(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._api_key.redact(value)
        if isinstance(value, dict):
            return {k: self._redacted(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._redacted(v) for v in value]
        return value

    def _failure(self, exc: Exception) -> ModelCallError:
        """The one error a failed call raises: classified like ``exc``, text redacted, and no
        reference to ``exc`` (an SDK error holds the request, whose headers hold the key)."""
        info = classify_error(exc)
        try:
            detail = str(exc) if type(exc) in _OWN_ERRORS else f"{type(exc).__name__}: {exc}"
        except Exception:  # an unprintable exception still becomes a clean error
            detail = type(exc).__name__
        cls: type[ModelCallError] = type(exc) if isinstance(exc, ModelCallError) and type(exc) in _OWN_ERRORS else ModelCallError
        if info.kind == "malformed" and cls is ModelCallError:  # e.g. a JSONDecodeError of the SDK
            cls, detail = MalformedResponse, f"malformed response: the body is not {self.protocol} ({detail})"
        message = self._api_key.redact(f"{self.provider} call to {self.model!r} failed: {detail}")
        return cls(message, status=info.status, retry_after_s=info.retry_after_s, retryable=info.retryable,
                   rate_limited=info.rate_limited, kind=info.kind)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the client(s). Idempotent; a later call opens new ones."""
        with self._clients_lock:
            client, self._client = self._client, None
        if client is not None:
            self._close_client(client)

    async def aclose(self) -> None:
        """Close the clients from async code (for the running loop's own client too). Idempotent."""
        self.close()

    def __enter__(self) -> ProviderModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- identity --------------------------------------------------------------------------------
    def get_model_name(self) -> str:
        return self.model

    def cache_key(self) -> str:
        """Everything that changes the answer (the response cache keys on it): the provider and
        :meth:`_answer_parameters`. Never the API key."""
        return f"{self.provider}:" + json.dumps(self._answer_parameters(), sort_keys=True, default=repr)

    def __repr__(self) -> str:
        where = f", base_url={self.base_url!r}" if self.base_url else ""
        return f"{type(self).__name__}(model={self.model!r}{where}, mode={self.mode!r})"

    __str__ = __repr__

    def __getstate__(self) -> NoReturn:
        raise TypeError(
            f"{type(self).__name__} holds live clients and an API key and cannot be pickled; "
            "build it again in the other process"
        )


class AsyncProviderModel(ProviderModel):
    """A :class:`ProviderModel` with an async call path: ``a_generate`` (preferred by
    :func:`~bayesbench.models.as_callable`) and ``acall``, on one async client per event loop
    (an httpx connection pool is bound to the loop that created it)."""

    def __init__(self, model: str, **options: Any) -> None:
        super().__init__(model, **options)
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    @abc.abstractmethod
    def _open_async(self) -> Any:
        """A new async client for the running loop."""

    async def _aclose_client(self, client: Any) -> None:
        result = client.close()
        if inspect.isawaitable(result):
            await result

    def _async_client(self) -> Any:
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            client = self._async_clients.get(loop)
            if client is None:
                client = self._async_clients[loop] = self._open_async()
        return client

    async def a_generate(self, prompt: str) -> Completion:
        start = time.perf_counter()
        try:
            response = await self._send(self._async_client(), prompt)
            if self._streams():
                state = StreamState(start)
                async with response:
                    self._check_stream(response)
                    async for event in response:
                        self._on_event(state, event)
                completion = self._end_stream(state)
            else:
                completion = self._read(response)
        except Exception as exc:
            error = self._failure(exc)
        else:
            return self._deliver(completion)
        raise error

    async def acall(self, problem: Any) -> Completion:
        """Async twin of ``model(problem)``."""
        return await self.a_generate(self.build_prompt(problem))

    def close(self) -> None:
        """Close the sync client and the async clients. An async client is closed on its own
        loop: awaited there when that loop is idle, scheduled when it is running, dropped when it
        is already closed (its connections died with it). Idempotent."""
        super().close()
        with self._clients_lock:
            clients = list(self._async_clients.items())
            self._async_clients.clear()
        for loop, client in clients:
            if loop.is_closed():
                continue
            if loop.is_running():
                loop.call_soon_threadsafe(self._schedule_aclose, loop, client)
            else:
                loop.run_until_complete(self._aclose_client(client))

    def _schedule_aclose(self, loop: asyncio.AbstractEventLoop, client: Any) -> None:
        loop.create_task(self._aclose_client(client))

    async def aclose(self) -> None:
        """Close every client; the running loop's async client is awaited here. Idempotent."""
        loop = asyncio.get_running_loop()
        with self._clients_lock:
            client = self._async_clients.pop(loop, None)
        if client is not None:
            await self._aclose_client(client)
        self.close()
