"""Hugging Face InferenceClient models and ``datasets`` data. Needs ``bayesbench[huggingface]``."""

from ..models._huggingface import HFModel, hf_dataset, hf_model

__all__ = ["HFModel", "hf_dataset", "hf_model"]
