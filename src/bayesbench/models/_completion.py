"""``Completion``: the text a model returned, plus what the call cost.

It is a ``str`` so every scorer, cache and user sees plain text; the execution layer reads the
metadata with ``getattr(response, "input_tokens", None)`` so plain strings work just as well.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Completion"]


class Completion(str):
    """A model's answer text (a real ``str``) carrying usage metadata.

    Attributes (all optional, ``None`` when the provider did not say):

    * ``input_tokens`` / ``output_tokens``: token counts the provider reported.
    * ``ttft_s``: seconds from sending the request to the first token, only when streamed.
    * ``model``: the model name the provider says answered (may differ from the requested alias).
    * ``finish_reason``: why generation stopped (``"stop"``, ``"length"``, ``"end_turn"`` ...).
    * ``raw_usage``: the provider's usage object as a plain dict, for cost accounting.

    String operations (``.strip()``, slicing, ``+``) return plain ``str``: metadata belongs to the
    call, not to derived text. ``Completion`` pickles and compares like its text.
    """

    input_tokens: int | None
    output_tokens: int | None
    ttft_s: float | None
    model: str | None
    finish_reason: str | None
    raw_usage: dict[str, Any] | None

    def __new__(
        cls,
        text: str = "",
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        ttft_s: float | None = None,
        model: str | None = None,
        finish_reason: str | None = None,
        raw_usage: dict[str, Any] | None = None,
    ) -> Completion:
        self = super().__new__(cls, text if text is not None else "")
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.ttft_s = ttft_s
        self.model = model
        self.finish_reason = finish_reason
        self.raw_usage = raw_usage
        return self

    @property
    def text(self) -> str:
        """The answer as a plain ``str`` (drops the metadata)."""
        return str.__str__(self)

    def metadata(self) -> dict[str, Any]:
        """The metadata as a plain dict (what a store records next to the text)."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "ttft_s": self.ttft_s,
            "model": self.model,
            "finish_reason": self.finish_reason,
            "raw_usage": self.raw_usage,
        }

    def __repr__(self) -> str:
        return (
            f"Completion({str.__repr__(self)}, input_tokens={self.input_tokens!r}, "
            f"output_tokens={self.output_tokens!r}, finish_reason={self.finish_reason!r})"
        )
