"""Inspect AI: use an Inspect model as a bayesbench model, and an Inspect dataset as problems.

bayesbench's executor owns retries, backoff and concurrency (its AIMD shrinks on a 429), so the
adapter switches off both retry layers an Inspect model has: Inspect's own loop
(``GenerateConfig.max_retries=0``) and the provider SDK's (``max_retries=0`` in the model args of
the providers whose client takes it). Inspect's adaptive connection limit is replaced by a static
one that never binds, so a 429 reaches the executor instead of being absorbed inside Inspect.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .._validate import finite_float, positive_int
from ..errors import ConfigError, DatasetError
from ._base import BaseLLM
from ._common import require
from ._completion import Completion
from ._errors import ModelCallError, classify_error
from ._prompt import PromptFn, make_prompt_builder
from ._secret import Secret


def _redact(text: str, key: str) -> str:
    """The shared redaction rule: every identifying fragment of the key."""
    return Secret(key).redact(text)


__all__ = ["InspectModel", "inspect_model", "from_inspect_dataset", "inspect_output_to_completion", "sample_to_problem"]

#: Providers whose SDK client takes ``max_retries`` from the model args (OpenAI, Anthropic, Groq
#: and every provider built on Inspect's OpenAI-compatible client).
SDK_RETRY_PROVIDERS = frozenset({
    "openai", "openai-api", "openai-api-completions", "anthropic", "groq", "together", "fireworks",
    "moonshot", "meta", "litellm-proxy", "deepseek", "sambanova", "ollama", "openrouter", "perplexity",
    "llama-cpp-python", "vllm", "vllm-completions", "sglang", "cloudflare", "hf-inference-providers",
})
#: GenerateConfig fields that change how a call is made, never what it answers (not in the cache key).
_OPERATIONAL_FIELDS = frozenset({
    "max_retries", "timeout", "attempt_timeout", "stream_idle_timeout", "max_connections",
    "adaptive_connections", "batch", "cache",
})
#: A connection limit that never binds: the executor bounds concurrency.
_UNBOUNDED_CONNECTIONS = 10_000
_SECRET_WORDS = ("api_key", "apikey", "secret", "password", "authorization", "credential", "token_provider")
_SECRET_NAMES = frozenset({"token", "access_token", "auth_token", "bearer_token", "http_client", "x-api-key"})


def _is_secret_name(name: str) -> bool:
    low = name.lower()
    return low in _SECRET_NAMES or any(word in low for word in _SECRET_WORDS)


def _identity(value: Any) -> Any:
    """A JSON-able, process-independent picture of ``value`` for the cache key.

    Plain data stays as it is; pydantic objects (Inspect's ``ModelOutput``, ``GenerateConfig``)
    become their non-None fields, without message ``id``\\s (random labels, not content);
    functions and classes become ``module.qualname``; secret-looking mapping keys are dropped.
    Anything else (a generator, a client) is named by type and ``id``: unique to this object,
    so it can never share another model's cached answers.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): _identity(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
                if not _is_secret_name(str(k))}
    if isinstance(value, (list, tuple)):
        return [_identity(v) for v in value]
    model_fields = getattr(type(value), "model_fields", None)  # a pydantic object
    if isinstance(model_fields, Mapping) and not isinstance(value, type):
        fields = {name: getattr(value, name, None) for name in model_fields}
        if type(value).__name__.startswith("ChatMessage"):
            fields.pop("id", None)
        return {"__type__": type(value).__name__, **_identity({k: v for k, v in fields.items() if v is not None})}
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return f"{type(value).__module__}.{type(value).__qualname__}@{id(value):x}"


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


def _unwrap_retry(exc: BaseException) -> BaseException:
    """The provider's own error behind Inspect's retry wrapper (tenacity ``RetryError``), so the
    executor classifies the real 429/5xx; Inspect's attempt timeout becomes a ``TimeoutError``."""
    last = getattr(exc, "last_attempt", None)
    inner = last.exception() if last is not None and callable(getattr(last, "exception", None)) else None
    if inner is None:
        inner = exc
    if type(inner).__name__ == "AttemptTimeoutError":
        timeout = TimeoutError(f"Inspect model call timed out: {inner}")
        timeout.__cause__ = inner
        return timeout
    return inner


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
        base_url: str | None = None,
        api_key: str | None = None,
        model_args: Mapping[str, Any] | None = None,
        config: Any = None,
        config_fields: Mapping[str, Any] | None = None,
    ) -> None:
        m = self._inspect_model_mod = require("inspect_ai.model", package="inspect-ai", extra="inspect", feature="inspect_model()")
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
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not math.isfinite(timeout) or timeout <= 0):
            raise ConfigError(f"`timeout` must be a positive number of seconds or None, got {timeout!r}")
        self.timeout = timeout
        if base_url is not None and (not isinstance(base_url, str) or not base_url.startswith(("http://", "https://"))):
            raise ConfigError(f"`base_url` must be an http(s) URL or None, got {base_url!r}")
        if model_args is not None and not isinstance(model_args, Mapping):
            raise ConfigError(f"`model_args` must be a dict of provider arguments or None, got {type(model_args).__name__}")
        if config is not None and not isinstance(config, m.GenerateConfig):
            raise ConfigError(f"`config` must be an inspect_ai.model.GenerateConfig or None, got {type(config).__name__}")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.config = self._merge_config(config, dict(config_fields or {}))
        self._owns_model = isinstance(model, str)
        if isinstance(model, str):
            args = dict(model_args or {})
            provider = model.split("/", 1)[0]
            if args.get("max_retries", 0) != 0:
                raise ConfigError(_RETRY_ADVICE.format(what=f"model_args max_retries={args['max_retries']!r}"))
            if provider in SDK_RETRY_PROVIDERS:
                args["max_retries"] = 0  # the SDK's own retry loop (the OpenAI SDK retries a 429 twice by default)
            hook = sys.excepthook  # Inspect installs its own on first use; the process is not ours to change
            try:
                model = m.get_model(model, base_url=base_url, api_key=api_key, memoize=False, **args)
            except ValueError as exc:
                raise ConfigError(f"`model` {model!r} is not an Inspect model: {exc}") from exc
            finally:
                sys.excepthook = hook
        elif not callable(getattr(model, "generate", None)) or not hasattr(model, "api"):
            raise ConfigError(f"`model` must be an Inspect model name like 'openai/gpt-4o' or an inspect_ai Model, got {type(model).__name__}")
        elif model_args or base_url is not None or api_key is not None:
            raise ConfigError("`model_args`, `base_url` and `api_key` apply when `model` is a name; "
                              "pass them to inspect_ai.model.get_model() for a Model object")
        self._model = model
        retries = getattr(getattr(model.api, "client", None), "max_retries", 0)
        if isinstance(retries, int) and retries > 0:
            if self._owns_model:
                self.close()
            raise ConfigError(_RETRY_ADVICE.format(what=f"its SDK client retries {retries} times")
                              + "; for a Model object, build it with get_model(..., max_retries=0) or pass the model name")

    def _merge_config(self, config: Any, fields: dict[str, Any]) -> Any:
        """Our defaults, then ``config``'s set fields, then ``fields``; retries always off."""
        m = self._inspect_model_mod
        base: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens,
                                "max_connections": _UNBOUNDED_CONNECTIONS}
        if self.seed is not None:
            base["seed"] = self.seed
        if self.timeout is not None:  # `timeout` in Inspect bounds the retry loop; an attempt's is this
            base["attempt_timeout"] = max(1, math.ceil(self.timeout))
        try:
            merged = m.GenerateConfig(**base)
            if config is not None:
                merged = merged.merge(config)
            if fields:
                merged = merged.merge(m.GenerateConfig(**fields))
        except (TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            known = ", ".join(sorted(m.GenerateConfig.model_fields))
            raise ConfigError(f"invalid GenerateConfig field(s) {sorted(fields)}: {exc}; known fields: {known}") from exc
        if merged.max_retries not in (None, 0):
            raise ConfigError(_RETRY_ADVICE.format(what=f"max_retries={merged.max_retries!r}"))
        merged.max_retries = 0
        return merged

    # -- identity -----------------------------------------------------------------------
    def get_model_name(self) -> str:
        return str(getattr(self._model, "name", None) or self._model)

    def cache_key(self) -> str:
        """Everything that can change an answer: provider/model, endpoint, model args, the model's
        and this adapter's GenerateConfig (less the operational fields: retries, timeouts,
        connection limits, Inspect's own cache) and how the prompt is built. Never the API key."""
        def answer_fields(config: Any) -> dict[str, Any]:
            dumped = config.model_dump(exclude_none=True) if config is not None else {}
            return {k: v for k, v in dumped.items() if k not in _OPERATIONAL_FIELDS}

        fn = self.prompt_fn
        identity = {
            "model": str(self._model),
            "base_url": self._base_url(),
            "model_args": _identity({k: v for k, v in dict(getattr(self._model, "model_args", {}) or {}).items()
                                     if k != "max_retries"}),
            "model_config": _identity(answer_fields(getattr(self._model, "config", None))),
            "config": _identity(answer_fields(self.config)),
            "system_prompt": self.system_prompt,
            "prompt_key": self.prompt_key,
            "prompt_fn": None if fn is None else f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}",
        }
        return "inspect|" + json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)

    def _base_url(self) -> str | None:
        """The endpoint: the one given, else the SDK client's (which also reads e.g. OPENAI_BASE_URL)."""
        api = self._model.api
        explicit = getattr(api, "base_url", None)
        client_url = getattr(getattr(api, "client", None), "base_url", None)
        return str(explicit or client_url or "") or None

    def __repr__(self) -> str:
        return f"InspectModel(model={str(self._model)!r})"

    __str__ = __repr__

    # -- calls --------------------------------------------------------------------------
    def build_prompt(self, problem: Any) -> str:
        return self._builder(problem)

    def _input(self, prompt: str) -> list[Any]:
        m = self._inspect_model_mod
        messages = [m.ChatMessageSystem(content=self.system_prompt)] if self.system_prompt else []
        messages.append(m.ChatMessageUser(content=prompt))
        return messages

    def _key(self) -> str | None:
        """The key the provider uses (given, or read by Inspect from the environment)."""
        key = getattr(self._model.api, "api_key", None)
        return key if isinstance(key, str) and key else None

    def _redacted_error(self, exc: BaseException) -> BaseException:
        """``exc``, or a :class:`ModelCallError` with the same classification when its text would
        show the API key (providers echo a wrong key in their 401 body)."""
        key = self._key()
        if key is None:
            return exc
        try:
            text = " ".join([str(exc), repr(exc.args), repr(getattr(exc, "body", None))])
        except Exception:  # cannot read it: assume the worst
            text = key
        if _redact(text, key) == text:
            return exc
        info = classify_error(exc)
        return ModelCallError(
            f"{self._model} call failed: {_redact(f'{type(exc).__name__}: {exc}', key)}",
            status=info.status, retry_after_s=info.retry_after_s, retryable=info.retryable,
        )

    def _reopen(self) -> None:
        """After :meth:`aclose`, a new call builds a fresh provider client (Inspect's own
        ``initialize``), so one adapter serves run after run even when each run closes it."""
        with self._lock:
            if self._closed:
                if self._owns_model:
                    self._model.api.initialize()
                    self._model._closed = False
                self._closed = False

    async def a_generate(self, prompt: str) -> Completion:
        if self._closed:
            self._reopen()
        try:
            output = await self._model.generate(input=self._input(prompt), config=self.config)
        except Exception as exc:
            inner = self._redacted_error(_unwrap_retry(exc))
            if inner is exc:
                raise
            raise inner from None
        c = inspect_output_to_completion(output)
        key = self._key()
        if key is not None and _redact(c.text, key) != c.text:  # an answer quoting the key is never kept
            c = Completion(_redact(c.text, key), input_tokens=c.input_tokens, output_tokens=c.output_tokens,
                           model=c.model, finish_reason=c.finish_reason, raw_usage=c.raw_usage)
        return c

    def _sync_loop(self) -> asyncio.AbstractEventLoop:
        """One private event loop for sync calls: an async SDK client's connections belong to the
        loop that opened them, so every sync call must run on the same one."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="bayesbench-inspect", daemon=True)
                thread.start()
                self._loop, self._loop_thread = loop, thread
            return self._loop

    def generate(self, prompt: str) -> Completion:
        return asyncio.run_coroutine_threadsafe(self.a_generate(prompt), self._sync_loop()).result()

    async def acall(self, problem: Any) -> Completion:
        return await self.a_generate(self.build_prompt(problem))

    # -- resources ----------------------------------------------------------------------
    async def _close_client(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._owns_model and not getattr(self._model, "_closed", False):
            await self._model.api.aclose()
            self._model._closed = True

    async def aclose(self) -> None:
        """Close the provider client (when this adapter built the model; a ``Model`` you passed
        stays yours) on the running loop, which should be the one that made the calls, and stop
        the private loop of sync calls. A later call opens a new client."""
        await self._close_client()
        if self._loop is not None and asyncio.get_running_loop() is not self._loop:
            self._stop_loop()

    def close(self) -> None:
        """Sync :meth:`aclose`. Sync calls' connections are closed on their own loop; after async
        calls, prefer ``await aclose()`` on their loop (the engine does this at the end of a run)."""
        loop = self._loop
        if loop is not None:  # close where the client's connections live
            asyncio.run_coroutine_threadsafe(self._close_client(), loop).result()
            self._stop_loop()
            return
        if self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.aclose())
            return
        result: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self.aclose())
            except BaseException as exc:  # re-raised in the caller's thread
                result.append(exc)

        worker = threading.Thread(target=run, name="bayesbench-inspect-close")
        worker.start()
        worker.join()
        if result:
            raise result[0]

    def _stop_loop(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._loop_thread = self._loop, self._loop_thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()

    def __enter__(self) -> InspectModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> InspectModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


_RETRY_ADVICE = (
    "the Inspect model would retry failed calls itself ({what}), hiding rate limits from bayesbench's "
    "executor, which owns retries and backs off on a 429; drop the retry setting and pass "
    "retry=RetryPolicy(max_attempts=...) to the benchmark instead"
)


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
    base_url: str | None = None,
    api_key: str | None = None,
    model_args: Mapping[str, Any] | None = None,
    config: Any = None,
    **config_fields: Any,
) -> InspectModel:
    """Any model Inspect AI can call (``"openai/gpt-4o"``, ``"ollama/llama3"``, ``"mockllm/model"``
    ...) or an ``inspect_ai.model.Model`` object, as an async bayesbench model.

    Args:
        model: ``"provider/model"`` or an ``inspect_ai.model.Model`` (its SDK must not retry).
        prompt_key, prompt_fn, system_prompt: how a problem becomes the messages (as for
            :func:`~bayesbench.adapters.openai_compat.openai_model`).
        temperature, max_tokens, seed: sampling defaults (0.0, 512, None).
        timeout: seconds per attempt (Inspect's ``attempt_timeout``, rounded up), default 60.
        base_url, api_key: the provider endpoint and key (``get_model(base_url=, api_key=)``).
        model_args: provider constructor arguments (``get_model(**model_args)``), e.g.
            ``{"responses_api": False}`` for an OpenAI-compatible server.
        config: an ``inspect_ai.model.GenerateConfig``; its set fields override the defaults above.
        **config_fields: ``GenerateConfig`` fields (``top_p=0.9``, ``stop_seqs=[...]``); they
            override ``config``.

    Retries stay with bayesbench's executor: Inspect's (``max_retries=0``) and the provider
    SDK's are switched off, and asking for either raises ``ConfigError``.
    """
    return InspectModel(
        model,
        prompt_key=prompt_key,
        prompt_fn=prompt_fn,
        system_prompt=system_prompt,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
        timeout=timeout,
        base_url=base_url,
        api_key=api_key,
        model_args=model_args,
        config=config,
        config_fields=config_fields,
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
