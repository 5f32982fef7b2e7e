"""Embedding models (sentence-transformers) and MTEB semantic-textual-similarity data.

An embedding model "answers" an STS pair with the similarity of the two sentences (cosine by
default), as text (``"0.812345"``), so it flows through the same pipeline as an LLM; a numeric scorer
compares it with the gold ``score`` (normalised to [0, 1])."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import one_of, positive_int
from ..errors import ConfigError, DatasetError
from ._common import require
from ._completion import Completion
from ._errors import ModelCallError

__all__ = ["STModel", "st_model", "mteb_sts_dataset", "sts_rows_to_problems"]

#: Similarity functions (sentence-transformers' names): cosine, dot product, and the negated
#: euclidean / manhattan distances (larger is more similar for all four).
SIMILARITIES = ("cosine", "dot", "euclidean", "manhattan")
_SMALL_FILE = 1 << 20  # files up to 1 MiB are hashed whole; larger ones by size, head and tail


def _folder_fingerprint(folder: Path) -> str:
    """A content hash of a local model folder: every file's relative path and bytes (configs
    whole; weights by size plus their first and last MiB), so a changed pooling config or
    different weights give a different key while an identical copy elsewhere shares the cache."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        with open(path, "rb") as fh:
            if size <= 2 * _SMALL_FILE:
                digest.update(fh.read())
            else:
                digest.update(fh.read(_SMALL_FILE))
                fh.seek(-_SMALL_FILE, 2)
                digest.update(fh.read(_SMALL_FILE))
    return digest.hexdigest()


def _module_configs(encoder: Any) -> list[Any]:
    """What a loaded SentenceTransformer does beyond its weights: each module's config (pooling
    mode, max sequence length, normalisation), its prompts and truncation."""
    configs: list[Any] = []
    try:
        modules = list(encoder) if hasattr(encoder, "__iter__") else []
    except TypeError:
        modules = []
    for module in modules:
        get = getattr(module, "get_config_dict", None)
        try:
            config = get() if callable(get) else {}
        except Exception:  # a module without a serialisable config: its type still counts
            config = {}
        configs.append([type(module).__name__, config])
    for attr in ("max_seq_length", "prompts", "default_prompt_name", "truncate_dim"):
        value = getattr(encoder, attr, None)
        if value is not None:
            configs.append([attr, value])
    return configs


class STModel:
    """A sentence embedding model scoring sentence pairs. Build it with :func:`st_model`.

    The answer to a pair is its similarity as text with 6 decimals (``"0.812345"``); a non-finite
    similarity is a failed call, never an answer. ``encode`` runs under a lock: the engine calls
    sync models from several threads and a fast tokenizer is not safe to share between them.
    """

    def __init__(
        self,
        encoder: Any,
        *,
        name: str,
        fields: tuple[str, str],
        batch_size: int,
        source: Mapping[str, Any] | None = None,
        normalize: bool = False,
        similarity: str = "cosine",
        prompt_name: str | None = None,
        prompt: str | None = None,
        truncate_dim: int | None = None,
        loader: Callable[[], Any] | None = None,
    ) -> None:
        self._encoder = encoder
        self._loader = loader  # reloads a model this adapter loaded itself, after close()
        self._name = name
        self.fields = fields
        self.batch_size = batch_size
        self._source = dict(source or {})
        self.normalize = normalize
        self.similarity = similarity
        self.prompt_name = prompt_name
        self.prompt = prompt
        self.truncate_dim = truncate_dim
        self._lock = threading.RLock()

    def get_model_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"STModel(model={self._name!r}, fields={self.fields!r}, similarity={self.similarity!r})"

    def cache_key(self) -> str:
        """Everything that changes a similarity: the model (a local folder by content, a hub name
        with its revision), its modules' settings (pooling, max length, normalisation, prompts),
        the encode prompt, truncation, normalisation, the similarity function and the two fields."""
        encoder = self._ensure()
        own = getattr(encoder, "cache_key", None)
        if callable(own):
            own = own()
        identity = {
            "source": self._source or {"encoder": f"{type(encoder).__module__}.{type(encoder).__qualname__}",
                                       "name": self._name, "cache_key": own},
            "modules": _module_configs(encoder),
            "fields": list(self.fields),
            "normalize": self.normalize,
            "similarity": self.similarity,
            "prompt_name": self.prompt_name,
            "prompt": self.prompt,
            "truncate_dim": self.truncate_dim,
        }
        return "sentence-transformers|" + json.dumps(identity, sort_keys=True, separators=(",", ":"), default=repr)

    def _pair(self, problem: Any) -> tuple[str, str]:
        a, b = self.fields
        if isinstance(problem, Mapping) and a in problem and b in problem:
            return str(problem[a]), str(problem[b])
        if isinstance(problem, (tuple, list)) and len(problem) == 2:
            return str(problem[0]), str(problem[1])
        keys = sorted(problem) if isinstance(problem, Mapping) else type(problem).__name__
        raise DatasetError(
            f"an STS problem needs the fields {a!r} and {b!r} (or a 2-tuple of sentences), got {keys}; "
            "pass fields=(first, second) to st_model()"
        )

    def _ensure(self) -> Any:
        with self._lock:
            if self._encoder is None and self._loader is not None:
                self._encoder = self._loader()
            return self._encoder

    def _encode(self, texts: list[str]) -> np.ndarray:
        options: dict[str, Any] = {"batch_size": self.batch_size}
        if self.prompt_name is not None:
            options["prompt_name"] = self.prompt_name
        if self.prompt is not None:
            options["prompt"] = self.prompt
        with self._lock:
            vectors = np.asarray(self._ensure().encode(texts, **options), dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ModelCallError(f"{self._name!r} returned embeddings of shape {vectors.shape} for {len(texts)} texts",
                                 retryable=False)
        if self.truncate_dim is not None:
            vectors = vectors[:, : self.truncate_dim]
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms == 0, 1.0, norms)
        return vectors

    def similarities(self, problems: list[Any]) -> list[float]:
        """The similarity of each problem's sentence pair, encoded in batches."""
        pairs = [self._pair(p) for p in problems]
        if not pairs:
            return []
        vectors = self._encode([t for pair in pairs for t in pair])
        first, second = vectors[0::2], vectors[1::2]
        if self.similarity == "cosine":
            norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
            values = np.einsum("ij,ij->i", first, second) / np.where(norms == 0, 1.0, norms)
        elif self.similarity == "dot":
            values = np.einsum("ij,ij->i", first, second)
        elif self.similarity == "euclidean":
            values = -np.linalg.norm(first - second, axis=1)
        else:  # manhattan
            values = -np.abs(first - second).sum(axis=1)
        if not np.all(np.isfinite(values)):
            raise ModelCallError(f"{self._name!r} gave a non-finite similarity (NaN/inf embeddings); it is not an answer",
                                 retryable=False)
        return [float(v) for v in values]

    def _answer(self, value: float) -> Completion:
        return Completion(f"{value:.6f}", model=self._name, finish_reason="embedding")

    def __call__(self, problem: Any) -> Completion:
        return self._answer(self.similarities([problem])[0])

    def batch_generate(self, problems: list[Any]) -> list[Completion]:
        """All pairs of a batch in one encode call (see :func:`~bayesbench.models.supports_batch`)."""
        return [self._answer(s) for s in self.similarities(problems)]

    def close(self) -> None:
        """Release a model this adapter loaded (its weights are freed once nothing else holds
        them); the next call loads it again, so one adapter serves run after run even when each
        run closes it. An encoder object you passed in stays yours: close() leaves it. Idempotent."""
        with self._lock:
            if self._loader is not None:
                self._encoder = None

    async def aclose(self) -> None:
        self.close()

    def __enter__(self) -> STModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def st_model(
    model: Any,
    *,
    fields: tuple[str, str] = ("sentence1", "sentence2"),
    device: str = "cpu",
    batch_size: int = 32,
    revision: str | None = None,
    normalize: bool = False,
    similarity: str = "cosine",
    prompt_name: str | None = None,
    prompt: str | None = None,
    truncate_dim: int | None = None,
    local_files_only: bool = False,
) -> STModel:
    """A sentence-transformers model answering STS problems with the similarity of the pair.

    Args:
        model: a model name or local folder (loaded with ``SentenceTransformer``), or an already
            loaded object with ``encode(texts, batch_size=...)`` (give it a ``cache_key`` if
            several differently configured ones share a class and ``model_name``).
        fields: the two problem keys holding the sentences, default ``("sentence1", "sentence2")``.
        device: torch device for a model loaded here, default ``"cpu"``.
        batch_size: sentences per encode call, default 32.
        revision: hub revision (branch, tag or commit) of a model loaded by name; pin a commit for
            a cache that can never go stale.
        normalize: L2-normalise the embeddings before the similarity (changes ``dot``/distances).
        similarity: ``"cosine"`` (default), ``"dot"``, ``"euclidean"`` or ``"manhattan"``.
        prompt_name, prompt: the encode prompt (one of the model's named prompts, or literal text).
        truncate_dim: keep the first this many dimensions (Matryoshka models).
        local_files_only: never reach the hub when loading by name.
    """
    if not (isinstance(fields, tuple) and len(fields) == 2 and all(isinstance(f, str) for f in fields)):
        raise ConfigError(f"`fields` must be a pair of key names like ('sentence1', 'sentence2'), got {fields!r}")
    positive_int("batch_size", batch_size)
    positive_int("truncate_dim", truncate_dim, allow_none=True)
    one_of("similarity", similarity, SIMILARITIES)
    if not isinstance(normalize, bool):
        raise ConfigError(f"`normalize` must be True or False, got {normalize!r}")
    for key, value in (("revision", revision), ("prompt_name", prompt_name), ("prompt", prompt)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"`{key}` must be a str or None, got {type(value).__name__}")
    if prompt_name is not None and prompt is not None:
        raise ConfigError("give `prompt_name` or `prompt`, not both")
    if isinstance(model, (str, Path)):
        st = require("sentence_transformers", package="sentence-transformers", extra="sentence-transformers",
                     feature="st_model()")
        path = Path(model).expanduser()
        if path.is_dir():
            source: dict[str, Any] = {"folder": _folder_fingerprint(path), "revision": revision}
            name = str(model)
        else:
            source, name = {"hub": str(model), "revision": revision}, str(model)

        def load() -> Any:
            return st.SentenceTransformer(str(model), device=device, revision=revision, local_files_only=local_files_only)

        encoder, loader = load(), load
    elif callable(getattr(model, "encode", None)):
        if revision is not None:
            raise ConfigError("`revision` applies when `model` is a name; pass it to SentenceTransformer() for a loaded model")
        encoder, name, source, loader = model, str(getattr(model, "model_name", None) or type(model).__name__), None, None
    else:
        raise ConfigError(f"`model` must be a model name/path or an object with encode(texts), got {type(model).__name__}")
    return STModel(encoder, name=name, fields=fields, batch_size=batch_size, source=source, normalize=normalize,
                   similarity=similarity, prompt_name=prompt_name, prompt=prompt, truncate_dim=truncate_dim,
                   loader=loader)


def sts_rows_to_problems(
    rows: list[Mapping[str, Any]],
    *,
    score_range: tuple[float, float] = (0.0, 5.0),
    fields: tuple[str, str] = ("sentence1", "sentence2"),
    score_field: str = "score",
) -> list[dict[str, Any]]:
    """STS rows -> problems ``{"id", "sentence1", "sentence2", "score", "answer"}``, the gold score
    rescaled from ``score_range`` to [0, 1] (``answer`` is its text, like a model's)."""
    lo, hi = score_range
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ConfigError(f"`score_range` must be (low, high) with low < high, got {score_range!r}")
    problems = []
    for i, row in enumerate(rows):
        missing = [k for k in (*fields, score_field) if k not in row]
        if missing:
            raise DatasetError(f"STS row {i} lacks {missing} (its keys are {sorted(row)}); pass fields= / score_field=")
        score = (float(row[score_field]) - lo) / (hi - lo)
        if not 0.0 <= score <= 1.0:
            raise DatasetError(f"STS row {i} has score {row[score_field]!r} outside score_range {score_range!r}; fix score_range=")
        problems.append(
            {"id": str(row.get("id", i)), fields[0]: row[fields[0]], fields[1]: row[fields[1]], "score": score, "answer": f"{score:.6f}"}
        )
    return problems


def mteb_sts_dataset(
    name: str = "mteb/stsbenchmark-sts",
    split: str = "test",
    *,
    score_range: tuple[float, float] = (0.0, 5.0),
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """An STS dataset as problems (see :func:`sts_rows_to_problems`).

    ``name`` is a Hub dataset id (default: MTEB's STSBenchmark), a local file/folder (loaded by
    :func:`~bayesbench.adapters.huggingface.hf_dataset`), or an MTEB task name without a slash
    (``"STS12"``), resolved to its dataset with the ``mteb`` package.
    """
    from ._huggingface import hf_dataset

    if isinstance(name, str) and "/" not in name and not Path(name).expanduser().exists():
        mteb = require("mteb", package="mteb", extra="mteb", feature="mteb_sts_dataset() with an MTEB task name")
        task = mteb.get_task(name)
        name = task.metadata.dataset["path"]
    rows = hf_dataset(name, split=split, limit=limit)
    return sts_rows_to_problems(rows, score_range=score_range)
