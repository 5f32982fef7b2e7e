"""In-process GGUF models with llama-cpp-python. Needs ``bayesbench[local]``."""

from ..models._llamacpp import LlamaCppModel, LoglikelihoodResult, llamacpp_model

__all__ = ["LlamaCppModel", "LoglikelihoodResult", "llamacpp_model"]
