"""What every provider adapter shares: option validation, API keys that never show up in
reprs or error messages, and the lazy import of optional SDKs."""

from __future__ import annotations

import importlib
import math
import os
from typing import Any, NoReturn

from .._validate import finite_float, one_of, positive_int
from ..errors import ConfigError, missing_dependency
from ._base import BaseLLM
from ._errors import ModelCallError, classify_error
from ._prompt import PromptFn, make_prompt_builder

__all__ = ["ProviderModel", "Secret", "require", "resolve_api_key", "REDACTED"]

REDACTED = "***"


def require(module: str, *, package: str, extra: str, feature: str) -> Any:
    """Import an optional SDK or raise the uniform MissingDependencyError with the pip line."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing_dependency(package, extra, feature) from exc


class Secret:
    """An API key that prints as ``***`` everywhere (repr, str, f-strings, logs)."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value

    def reveal(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret(***)" if self._value else "Secret(None)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:  # never written to a pickle / cache by accident
        raise TypeError("an API key is not picklable; rebuild the adapter from its environment variable")


def resolve_api_key(api_key: str | None, env_var: str) -> Secret:
    """``api_key`` if given, else the environment variable ``env_var`` (may be unset)."""
    if api_key is not None and not isinstance(api_key, str):
        raise ConfigError(f"`api_key` must be a str or None, got {type(api_key).__name__}")
    return Secret(api_key if api_key else os.environ.get(env_var) or None)


def redact(text: str, secret: Secret) -> str:
    value = secret.reveal()
    if not value:
        return text
    out = text.replace(value, REDACTED)
    # Providers sometimes echo a key partially ("sk-abc...xyz"); hide any long prefix too.
    if len(value) >= 12:
        out = out.replace(value[:8], REDACTED)
    return out


def _leaks(exc: BaseException, secret: Secret) -> bool:
    value = secret.reveal()
    if not value:
        return False
    probe = value[:8] if len(value) >= 12 else value
    try:
        parts = [str(exc), repr(exc.args), repr(getattr(exc, "body", None)), repr(getattr(exc, "message", None))]
    except Exception:
        return True  # cannot inspect it: assume the worst
    return any(probe in p for p in parts)


def _validate_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise ConfigError(f"`timeout` must be a positive number of seconds or None, got {timeout!r}")
    return float(timeout)


class ProviderModel(BaseLLM):
    """Shared option handling for the provider adapters. Not public; see the adapter functions."""

    provider = "model"
    env_var: str | None = None

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

    # -- prompt -------------------------------------------------------------------------
    def build_prompt(self, problem: Any) -> str:
        return self._builder(problem)

    def _messages(self, prompt: str) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        messages.append({"role": "user", "content": prompt})
        return messages

    def _completion_prompt(self, prompt: str) -> str:
        return f"{self.system_prompt}\n\n{prompt}" if self.system_prompt else prompt

    # -- identity -----------------------------------------------------------------------
    def get_model_name(self) -> str:
        return self.model

    def cache_key(self) -> str:
        """Everything that changes the answer (the response cache keys on it): provider, endpoint,
        model, mode, sampling parameters and how the prompt is built. Never the API key."""
        fn = self.prompt_fn
        prompt_fn = None if fn is None else f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
        parts = [self.provider, self.base_url or "", self.model, self.mode, repr(self.temperature),
                 str(self.max_tokens), repr(self.seed), self.system_prompt or "", self.prompt_key or "",
                 prompt_fn or ""]
        return "|".join(parts)

    def __repr__(self) -> str:
        where = f", base_url={self.base_url!r}" if self.base_url else ""
        return f"{type(self).__name__}(model={self.model!r}{where}, mode={self.mode!r})"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(
            f"{type(self).__name__} holds live clients and an API key and cannot be pickled; "
            "build it again in the other process"
        )

    # -- errors -------------------------------------------------------------------------
    def _reraise(self, exc: BaseException) -> NoReturn:
        """Re-raise an SDK error unchanged, unless its text would leak the API key: then raise a
        :class:`ModelCallError` with the same classification and a redacted message."""
        if _leaks(exc, self._api_key):
            info = classify_error(exc)
            message = redact(f"{type(exc).__name__}: {exc}", self._api_key)
            raise ModelCallError(
                f"{self.provider} call to {self.model!r} failed: {message}",
                status=info.status,
                retry_after_s=info.retry_after_s,
                retryable=info.retryable,
            ) from None
        raise exc
