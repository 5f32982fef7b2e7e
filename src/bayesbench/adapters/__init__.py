"""Adapters for models and datasets of the ecosystem, at the import paths of the original
bayesbench (``bayesbench.adapters.openai_compat`` ...). Each submodule imports its SDK lazily,
so importing this package never needs an optional dependency. The implementations live in
``bayesbench.models``; see docs/models.md."""

__all__ = ["anthropic_adapter", "huggingface", "inspect_ai", "llamacpp", "mteb", "openai_compat"]
