"""Embedding models (sentence-transformers) and MTEB semantic-textual-similarity data.

An embedding model "answers" an STS pair with the cosine similarity of the two sentences, as
text (``"0.812345"``), so it flows through the same pipeline as an LLM; a numeric scorer
compares it with the gold ``score`` (normalised to [0, 1])."""

from __future__ import annotations

import math
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError, DatasetError
from ._common import require
from ._completion import Completion

__all__ = ["STModel", "st_model", "mteb_sts_dataset", "sts_rows_to_problems"]


class STModel:
    """A sentence embedding model scoring sentence pairs. Build it with :func:`st_model`."""

    def __init__(self, encoder: Any, *, name: str, fields: tuple[str, str], batch_size: int) -> None:
        self._encoder = encoder
        self._name = name
        self.fields = fields
        self.batch_size = batch_size

    def get_model_name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"STModel(model={self._name!r}, fields={self.fields!r})"

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

    def similarities(self, problems: list[Any]) -> list[float]:
        """Cosine similarity of each problem's sentence pair, encoded in batches."""
        pairs = [self._pair(p) for p in problems]
        if not pairs:
            return []
        texts = [t for pair in pairs for t in pair]
        vectors = np.asarray(self._encoder.encode(texts, batch_size=self.batch_size), dtype=np.float64)
        first, second = vectors[0::2], vectors[1::2]
        norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
        cos = np.einsum("ij,ij->i", first, second) / np.where(norms == 0, 1.0, norms)
        return [float(c) for c in cos]

    def __call__(self, problem: Any) -> Completion:
        similarity = self.similarities([problem])[0]
        return Completion(f"{similarity:.6f}", model=self._name, finish_reason="embedding")

    def batch_generate(self, problems: list[Any]) -> list[Completion]:
        """All pairs of a batch in one encode call (see :func:`~bayesbench.models.supports_batch`)."""
        return [Completion(f"{s:.6f}", model=self._name, finish_reason="embedding") for s in self.similarities(problems)]


def st_model(
    model: Any,
    *,
    fields: tuple[str, str] = ("sentence1", "sentence2"),
    device: str = "cpu",
    batch_size: int = 32,
) -> STModel:
    """A sentence-transformers model answering STS problems with the cosine similarity.

    Args:
        model: a model name or local path (loaded with ``SentenceTransformer``), or an already
            loaded object with ``encode(texts, batch_size=...)``.
        fields: the two problem keys holding the sentences, default ``("sentence1", "sentence2")``.
        device: torch device for a model loaded here, default ``"cpu"``.
        batch_size: sentences per encode call, default 32.
    """
    if not (isinstance(fields, tuple) and len(fields) == 2 and all(isinstance(f, str) for f in fields)):
        raise ConfigError(f"`fields` must be a pair of key names like ('sentence1', 'sentence2'), got {fields!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"`batch_size` must be an integer >= 1, got {batch_size!r}")
    if isinstance(model, str):
        st = require("sentence_transformers", package="sentence-transformers", extra="mteb", feature="st_model()")
        encoder, name = st.SentenceTransformer(model, device=device), model
    elif callable(getattr(model, "encode", None)):
        encoder, name = model, str(getattr(model, "model_name", None) or type(model).__name__)
    else:
        raise ConfigError(f"`model` must be a model name/path or an object with encode(texts), got {type(model).__name__}")
    return STModel(encoder, name=name, fields=fields, batch_size=batch_size)


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
