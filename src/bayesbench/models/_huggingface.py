"""Hugging Face: models through ``huggingface_hub.InferenceClient`` (the HF Inference API, an
Inference Endpoint, a TGI / vLLM server, or any OpenAI-compatible chat server via ``base_url``),
and datasets through ``datasets`` (Hub names, or local files and folders)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DatasetError
from ._common import require
from ._completion import Completion
from ._errors import IncompleteResponse, MalformedResponse
from ._prompt import PromptFn
from ._provider import AsyncProviderModel
from ._secret import Secret

__all__ = ["HFModel", "hf_model", "hf_dataset"]

_FORMATS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet", ".txt": "text", ".arrow": "arrow"}


class HFModel(AsyncProviderModel):
    """A model behind ``huggingface_hub.InferenceClient``. Build it with :func:`hf_model`."""

    provider = "huggingface"
    env_var = "HF_TOKEN"

    def __init__(self, model_id: str, *, provider: str | None, **options: Any) -> None:
        self._hub = require("huggingface_hub", package="huggingface_hub", extra="huggingface", feature="hf_model()")
        super().__init__(model_id, **options)
        if provider is not None and not isinstance(provider, str):
            raise ConfigError(f"`provider` must be a str (e.g. 'hf-inference', 'together') or None, got {provider!r}")
        self.hf_provider = provider
        if not self._api_key:  # the client falls back to the token saved by `hf auth login`: redact that one
            saved = getattr(self._hub, "get_token", lambda: None)()
            self._api_key = Secret(saved if isinstance(saved, str) else None)

    @property
    def protocol(self) -> str:  # type: ignore[override]
        return "a chat completion" if self.mode == "chat" else "a text-generation answer"

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"token": self._api_key.reveal(), "timeout": self.timeout}
        if self.base_url is not None:
            kwargs["base_url"] = self.base_url  # the model name then goes in the payload
        else:
            kwargs["model"] = self.model
            if self.hf_provider is not None:
                kwargs["provider"] = self.hf_provider
        return kwargs

    def _open(self) -> Any:
        return self._hub.InferenceClient(**self._client_kwargs())

    def _open_async(self) -> Any:
        return self._hub.AsyncInferenceClient(**self._client_kwargs())

    def _answer_parameters(self) -> dict[str, Any]:
        return {**super()._answer_parameters(), "provider": self.hf_provider}

    def _chat_kwargs(self, prompt: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"messages": self._messages(prompt), "max_tokens": self.max_tokens, "temperature": self.temperature}
        if self.base_url is not None:
            kwargs["model"] = self.model
        if self.seed is not None:
            kwargs["seed"] = self.seed
        return kwargs

    def _text_kwargs(self, prompt: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"prompt": self._completion_prompt(prompt), "max_new_tokens": self.max_tokens, "details": True}
        # TGI rejects temperature=0; greedy decoding is do_sample=False.
        if self.temperature > 0:
            kwargs.update(temperature=self.temperature, do_sample=True)
        else:
            kwargs["do_sample"] = False
        if self.seed is not None:
            kwargs["seed"] = self.seed
        return kwargs

    def _send(self, client: Any, prompt: str) -> Any:
        if self.mode == "chat":
            return client.chat_completion(**self._chat_kwargs(prompt))
        return client.text_generation(**self._text_kwargs(prompt))

    def _parse(self, out: Any) -> Completion:
        if self.mode != "chat":
            text = getattr(out, "generated_text", None)
            if not isinstance(text, str):
                raise IncompleteResponse(f"incomplete response: `generated_text` is {text!r}")
            details = getattr(out, "details", None)
            return Completion(
                text,
                output_tokens=getattr(details, "generated_tokens", None),
                finish_reason=str(getattr(details, "finish_reason", "")) or None,
            )
        choices = getattr(out, "choices", None)
        if not isinstance(choices, list):
            raise MalformedResponse(f"malformed response: the body is not {self.protocol} (no `choices` list)")
        if not choices:
            raise IncompleteResponse("incomplete response: `choices` is empty, there is no answer")
        choice = choices[0]
        text = choice.message.content
        if not isinstance(text, str):
            raise IncompleteResponse(
                f"incomplete response: the answer text is {text!r} (finish_reason={choice.finish_reason!r})"
            )
        usage = getattr(out, "usage", None)
        return Completion(
            text,
            input_tokens=getattr(usage, "prompt_tokens", None),
            output_tokens=getattr(usage, "completion_tokens", None),
            model=getattr(out, "model", None),
            finish_reason=getattr(choice, "finish_reason", None),
            raw_usage=dict(usage) if usage is not None else None,
        )


def hf_model(
    model_id: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    provider: str | None = None,
    prompt_key: str | None = None,
    prompt_fn: PromptFn | None = None,
    system_prompt: str | None = None,
    mode: str = "chat",
    temperature: float = 0.0,
    max_tokens: int = 512,
    seed: int | None = None,
    timeout: float | None = 60.0,
) -> HFModel:
    """A model served through ``huggingface_hub.InferenceClient``.

    Args:
        model_id: a Hub model id (``"meta-llama/Llama-3.1-8B-Instruct"``); with ``base_url``, the
            model name sent in the payload.
        base_url: a TGI / vLLM / Inference Endpoint / OpenAI-compatible server root; chat goes to
            ``base_url + /v1/chat/completions``.
        api_key: default: the ``HF_TOKEN`` environment variable (never shown in reprs or errors).
        provider: an Inference Providers name (``"together"``, ``"hf-inference"``, ...), Hub only.
        mode: ``"chat"`` (``chat_completion``) or ``"completion"`` (TGI ``text_generation``).
        Others as for :func:`~bayesbench.adapters.openai_compat.openai_model`.
    """
    return HFModel(**locals())  # every parameter above, by name


def _local_format(path: Path) -> tuple[str, Any]:
    """(builder name, data_files) for a local file or folder of data files."""
    if path.is_file():
        suffixes = "".join(path.suffixes[-2:]).lower()
        key = path.suffix.lower()
        if suffixes.endswith((".jsonl.gz", ".json.gz")):
            key = ".json"
        if key not in _FORMATS:
            raise DatasetError(
                f"cannot load {path.name!r}: the file type {path.suffix!r} is not supported; "
                f"use one of {sorted(_FORMATS)} (optionally .json.gz / .jsonl.gz)"
            )
        return _FORMATS[key], str(path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _FORMATS)
    if not files:
        raise DatasetError(f"the folder {str(path)!r} holds no data files; put {sorted(_FORMATS)} files in it")
    kinds = {_FORMATS[p.suffix.lower()] for p in files}
    if len(kinds) > 1:
        raise DatasetError(
            f"the folder {str(path)!r} mixes data file types {sorted(kinds)}; keep one type per folder or pass a file"
        )
    # Files named after a split ("test.jsonl", "train-00000.parquet") become that split.
    by_split: dict[str, list[str]] = {}
    for p in files:
        stem = p.name.split(".")[0].split("-")[0].lower()
        split = stem if stem in {"train", "test", "validation", "dev", "val"} else "train"
        by_split.setdefault(split, []).append(str(p))
    return kinds.pop(), by_split


def hf_dataset(
    name: str | os.PathLike[str],
    split: str = "test",
    *,
    subset: str | None = None,
    revision: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Load a dataset with ``datasets`` and return its rows as a list of problem dicts.

    Args:
        name: a Hub dataset (``"openai/gsm8k"``), or a local file (``.json``, ``.jsonl``, ``.csv``,
            ``.parquet``, ``.txt``, ``.arrow``) or folder of such files. Files named
            ``train*`` / ``test*`` / ``validation*`` in a folder become those splits; a single
            file is one split and ``split`` is ignored.
        split: the split to load, default ``"test"``.
        subset: the Hub configuration name (``"main"`` for gsm8k).
        revision: a Hub git revision to pin.
        limit: keep only the first ``limit`` rows.
    """
    datasets = require("datasets", package="datasets", extra="huggingface", feature="hf_dataset()")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"`limit` must be a positive integer or None, got {limit!r}")
    path = Path(os.fspath(name)).expanduser()
    try:
        if path.exists():
            builder, data_files = _local_format(path)
            if isinstance(data_files, str):
                ds = datasets.load_dataset(builder, data_files={"data": data_files}, split="data")
            else:
                if split not in data_files:
                    if len(data_files) == 1:
                        (only,) = data_files
                        data_files = {split: data_files[only]}
                    else:
                        raise DatasetError(
                            f"split {split!r} not found in {str(path)!r}; it has the splits {sorted(data_files)}: pass split=..."
                        )
                ds = datasets.load_dataset(builder, data_files={split: data_files[split]}, split=split)
        else:
            if not isinstance(name, str) or not name:
                raise DatasetError(f"`name` must be a Hub dataset id or an existing path, got {name!r}")
            ds = datasets.load_dataset(name, subset, split=split, revision=revision)
    except DatasetError:
        raise
    except Exception as exc:
        offline = "offline" in str(exc).lower() or isinstance(exc, ConnectionError)
        hint = (
            "the Hub cannot be reached (offline); download the data once and pass the local file or folder"
            if offline
            else "check the dataset name, subset= and split=, or pass a local file or folder"
        )
        raise DatasetError(f"could not load dataset {str(name)!r} (split {split!r}): {type(exc).__name__}: {exc}; {hint}") from exc
    n = len(ds) if limit is None else min(limit, len(ds))
    rows = ds.select(range(n)) if n < len(ds) else ds
    return [dict(row) for row in rows]
