"""Models: the protocol every model meets, and adapters for the ecosystem's providers.

A model is anything :func:`as_callable` accepts: a :class:`BaseLLM`, an adapter from
``bayesbench.adapters`` (also importable here), or a plain sync/async ``function(problem) -> str``.
Adapters return :class:`Completion` (a ``str`` with token usage) and never retry:
:func:`classify_error` tells the execution layer what a failure means. A response that is not a
complete answer raises :class:`IncompleteResponse` / :class:`MalformedResponse` (retryable).
"""

from ._anthropic import AnthropicModel, anthropic_model
from ._base import BaseLLM, as_callable, is_async_callable, model_name, supports_batch
from ._completion import Completion
from ._conformance import AdapterCheck, AdapterCheckReport, check_cache_key, check_model_adapter
from ._errors import (
    RETRYABLE_STATUSES,
    ErrorInfo,
    IncompleteResponse,
    MalformedResponse,
    ModelCallError,
    classify_error,
)
from ._huggingface import HFModel, hf_dataset, hf_model
from ._inspect_ai import InspectModel, from_inspect_dataset, inspect_model
from ._llamacpp import LlamaCppModel, LoglikelihoodResult, llamacpp_model
from ._mteb import STModel, mteb_sts_dataset, st_model
from ._openai import OpenAIModel, openai_model
from ._prompt import PROMPT_KEYS, default_prompt, make_prompt_builder

__all__ = [
    "AdapterCheck",
    "AdapterCheckReport",
    "AnthropicModel",
    "BaseLLM",
    "Completion",
    "ErrorInfo",
    "HFModel",
    "IncompleteResponse",
    "InspectModel",
    "LlamaCppModel",
    "LoglikelihoodResult",
    "MalformedResponse",
    "ModelCallError",
    "OpenAIModel",
    "PROMPT_KEYS",
    "RETRYABLE_STATUSES",
    "STModel",
    "anthropic_model",
    "as_callable",
    "check_cache_key",
    "check_model_adapter",
    "classify_error",
    "default_prompt",
    "from_inspect_dataset",
    "hf_dataset",
    "hf_model",
    "inspect_model",
    "is_async_callable",
    "llamacpp_model",
    "make_prompt_builder",
    "model_name",
    "mteb_sts_dataset",
    "openai_model",
    "st_model",
    "supports_batch",
]
