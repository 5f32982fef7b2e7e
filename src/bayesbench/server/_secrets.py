"""Keep secrets off the pages: secret-named keys are redacted, and key-like strings are masked wherever they are.

The store already redacts secret-named keys when it writes (``redact_secrets``); a page or API answer applies
it again (a store written by other code) and also masks values that *look* like credentials under any key or
inside any text, model answers included (a model can echo a key it saw in its prompt).
"""

from __future__ import annotations

import re
from typing import Any

from ..store import redact_secrets

__all__ = ["mask_secrets", "mask_text"]

MASK = "<redacted>"
_KEY_LIKE = re.compile(
    r"(?:"
    r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"  # OpenAI / Anthropic
    r"|\b(?:hf|gh[pousr]|glpat|xox[abprs]|ya29)[_\-.][A-Za-z0-9_\-.]{16,}"  # Hugging Face, GitHub, GitLab, Slack, Google
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bAIza[0-9A-Za-z_\-]{30,}"  # Google API key
    r"|(?i:\bbearer\s+)[A-Za-z0-9_\-.=+/]{12,}"  # an Authorization header value
    r"|\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"  # a JWT
    r")"
)


def mask_text(text: str) -> str:
    """``text`` with every key-like substring replaced by ``<redacted>``."""
    return _KEY_LIKE.sub(MASK, text) if text else text


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON-like value with secret-named keys redacted and key-like strings masked."""
    value = redact_secrets(value)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return mask_text(v)
        if isinstance(v, dict):
            return {mask_text(str(k)): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return v

    return walk(value)
