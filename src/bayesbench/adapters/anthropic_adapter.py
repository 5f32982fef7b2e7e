"""Anthropic Messages API. Needs ``bayesbench[anthropic]``."""

from ..models._anthropic import AnthropicModel, anthropic_model

__all__ = ["AnthropicModel", "anthropic_model"]
