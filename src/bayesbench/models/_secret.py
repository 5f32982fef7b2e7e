"""API keys that never show up: not in reprs, pickles, errors, logs, records or cached answers.

The redaction rule: every run of at least :data:`MIN_FRAGMENT` consecutive characters of the key
(case-sensitive) is replaced by ``***`` wherever it appears, so a provider that echoes the key
without its ``sk-`` prefix, only its tail, or a slice of its middle is caught as well as one that
echoes it whole. A key shorter than :data:`MIN_FRAGMENT` is redacted where it appears whole.
"""

from __future__ import annotations

import os
from typing import NoReturn

from ..errors import ConfigError

__all__ = ["MIN_FRAGMENT", "REDACTED", "Secret", "resolve_api_key"]

REDACTED = "***"
#: The shortest run of a key's characters that identifies it (and is redacted).
MIN_FRAGMENT = 8


class Secret:
    """An API key that prints as ``***`` everywhere (repr, str, f-strings, logs), and that can
    :meth:`redact` itself from any text."""

    __slots__ = ("_value", "_grams")

    def __init__(self, value: str | None) -> None:
        self._value = value or None
        n = MIN_FRAGMENT
        if not self._value:
            self._grams: frozenset[str] = frozenset()
        elif len(self._value) < n:
            self._grams = frozenset({self._value})
        else:
            self._grams = frozenset(self._value[i : i + n] for i in range(len(self._value) - n + 1))

    def reveal(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret(***)" if self._value else "Secret(None)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:  # never written to a pickle / cache by accident
        raise TypeError("an API key is not picklable; rebuild the adapter from its environment variable")

    def leaks(self, text: str) -> bool:
        """True when ``text`` holds any identifying fragment of the key."""
        return any(g in text for g in self._grams)

    def redact(self, text: str) -> str:
        """``text`` with every identifying fragment of the key replaced by ``***``."""
        hits = [g for g in self._grams if g in text]  # C-speed scan; nearly always empty
        if not hits:
            return text
        covered = bytearray(len(text))
        for gram in hits:
            start = text.find(gram)
            while start != -1:
                covered[start : start + len(gram)] = b"\x01" * len(gram)
                start = text.find(gram, start + 1)
        out, i = [], 0
        while i < len(text):
            if covered[i]:
                while i < len(text) and covered[i]:
                    i += 1
                out.append(REDACTED)
            else:
                j = covered.find(1, i)
                j = len(text) if j == -1 else j
                out.append(text[i:j])
                i = j
        return "".join(out)


def resolve_api_key(api_key: str | None, env_var: str) -> Secret:
    """``api_key`` if given, else the environment variable ``env_var`` (may be unset)."""
    if api_key is not None and not isinstance(api_key, str):
        raise ConfigError(f"`api_key` must be a str or None, got {type(api_key).__name__}")
    return Secret(api_key if api_key else os.environ.get(env_var) or None)
