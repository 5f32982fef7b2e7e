"""OpenAI and OpenAI-compatible servers (vLLM, llama.cpp, Ollama, ...). Needs ``bayesbench[openai]``."""

from ..models._openai import OpenAIModel, openai_model

__all__ = ["OpenAIModel", "openai_model"]
