"""Keep secrets off the pages: secret-named keys are redacted, and key-like strings are masked wherever they are.

The store already redacts secret-named keys when it writes (``redact_secrets``); a page or API answer applies
it again (a store written by other code) and also masks values that *look* like credentials under any key or
inside any text, model answers included (a model can echo a key it saw in its prompt).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..store._store import _is_secret_key

__all__ = ["mask_secrets", "mask_text"]

MASK = "<redacted>"
_KEY_LIKE = re.compile(
    r"(?:"
    r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"  # OpenAI / Anthropic
    r"|\b(?:hf|gh[pousr]|glpat|xox[abprs]|ya29)[_\-.][A-Za-z0-9_\-.]{16,}"  # HF, GitHub, GitLab, Slack, Google
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bAIza[0-9A-Za-z_\-]{30,}"  # Google API key
    r"|(?i:\bbearer\s+)[A-Za-z0-9_\-.=+/]{12,}"  # an Authorization header value
    r"|\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"  # a JWT
    r")"
)


def mask_text(text: str) -> str:
    """``text`` with every key-like substring replaced by ``<redacted>``."""
    return _KEY_LIKE.sub(MASK, text) if text else text


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    return _is_secret_key(key)


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON-like value with secret-named keys redacted and key-like strings masked (one pass; the
    key rule is the store's ``redact_secrets``)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_text(str(k)): MASK if _secret_key(str(k)) and v is not None else mask_secrets(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v) for v in value]
    return value
