"""Stable hashes of prompts and cache keys, and the documented token estimate."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

#: Bump when the key recipe changes, so old cache entries are simply never hit again.
CACHE_KEY_VERSION = 1


def _default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__type__": type(obj).__qualname__, **dataclasses.asdict(obj)}
    for attr in ("model_dump", "to_dict"):  # pydantic models, our own result objects
        f = getattr(obj, attr, None)
        if callable(f):
            return f()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=repr)
    if isinstance(obj, bytes):
        return {"__bytes__": obj.hex()}
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return obj.tolist()
    raise TypeError(f"not JSON-able: {type(obj).__name__}")


def stable_json(obj: Any) -> str | None:
    """Canonical JSON (sorted keys, no spaces) or None if ``obj`` has no stable JSON form."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)
    except (TypeError, ValueError):
        return None


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def callable_identity(fn: Callable[..., Any]) -> str:
    """What identifies the model behind ``fn`` for caching.

    An adapter's ``cache_key`` attribute (str, or a zero-argument method returning one) wins: it
    should name the endpoint and every sampling parameter that changes the answer. Otherwise
    ``module.qualname`` (for bound methods plus the instance's ``cache_key`` when it has one, and
    for ``functools.partial`` plus its bound arguments).
    """
    key = getattr(fn, "cache_key", None)
    if callable(key) and not isinstance(key, str):
        key = key()
    if key is not None:
        return f"key:{key}"
    if isinstance(fn, functools.partial):
        bound = stable_json({"args": list(fn.args), "kw": fn.keywords}) or repr((fn.args, fn.keywords))
        return f"partial:{callable_identity(fn.func)}:{bound}"
    self_obj = getattr(fn, "__self__", None)
    func = getattr(fn, "__func__", fn)
    name = f"{getattr(func, '__module__', None) or type(func).__module__}." + (
        getattr(func, "__qualname__", None) or type(func).__qualname__
    )
    if self_obj is not None and not isinstance(self_obj, type):
        inst = getattr(self_obj, "cache_key", None)
        if callable(inst) and not isinstance(inst, str):
            inst = inst()
        if inst is not None:
            return f"{name}@{inst}"
    return name


def make_cache_key(model: str, fn: Callable[..., Any], args_json: str, params_json: str) -> str:
    """sha256 over everything that changes the answer: model, callable, prompt, sampling params."""
    payload = json.dumps(
        [CACHE_KEY_VERSION, model, callable_identity(fn), args_json, params_json], separators=(",", ":")
    )
    return sha256_hex(payload)


def estimate_tokens(text: str) -> int:
    """About four characters per token (the usual rule of thumb for English BPE vocabularies)."""
    return math.ceil(len(text) / 4) if text else 0


def prompt_text(args: tuple[Any, ...]) -> str:
    """The text of the arguments, for estimating input tokens."""
    parts = []
    for a in args:
        if isinstance(a, str):
            parts.append(a)
        elif isinstance(a, Mapping) or isinstance(a, (list, tuple)):
            parts.append(stable_json(a) or "")
        else:
            parts.append(str(a))
    return "\n".join(parts)
