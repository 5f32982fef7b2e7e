"""The test-case schema: :class:`TestCase`, its :class:`Provenance`, and the :class:`Guidelines` stored with a dataset.

A case's id is assigned once and then kept: by default it is derived from the input text (``c-`` + 12 hex digits
of its SHA-256), so collecting the same log twice gives the same ids, and an edit (a corrected expected answer,
a scrubbed email) does not change it. Everything here is plain data with ``to_dict``/``from_dict`` for JSONL.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..errors import DatasetError

#: Kinds of origin a case can have; ``generated`` cases are always ``synthetic``.
SOURCE_KINDS = ("log", "expert", "hf", "generated", "manual")
#: Named difficulty levels; a number in [0, 1] is accepted too.
DIFFICULTY_LEVELS = ("easy", "medium", "hard")
#: Measurement scales a rubric's labels can have (what agreement statistics need to know).
SCALES = ("nominal", "ordinal", "interval")


def canonical_json(value: Any) -> str:
    """The one serialisation that hashes are taken over: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def input_text(value: Any) -> str:
    """The text of an input: the string itself, or the canonical JSON of a structured input."""
    return value if isinstance(value, str) else canonical_json(value)


def content_id(value: Any) -> str:
    """The content-derived id of an input: ``c-`` + the first 12 hex digits of the SHA-256 of its text."""
    return "c-" + hashlib.sha256(input_text(value).encode("utf-8")).hexdigest()[:12]


def _json_safe(value: Any, what: str) -> Any:
    try:
        return json.loads(canonical_json(value))
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"`{what}` must be JSON-serialisable (str, numbers, lists, dicts), got {value!r}: {exc}") \
            from None


@dataclass(frozen=True)
class Provenance:
    """Where a case came from.

    kind: one of ``log`` (real user queries), ``expert`` (an expert's file), ``hf`` (a Hugging Face dataset),
        ``generated`` (a model's candidate) or ``manual``.
    source: the file path, dataset name or model name it came from.
    location: the line (JSONL, 1-based), row (CSV, 1-based after the header) or index (HF) in that source.
    synthetic: True for model-generated cases (always True when ``kind == "generated"``).
    generator: for generated cases, what produced them (model name, prompt template hash, seed).
    """

    kind: str = "manual"
    source: str = ""
    location: int | None = None
    synthetic: bool = False
    generator: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise DatasetError(f"`provenance.kind` must be one of {', '.join(SOURCE_KINDS)}, got {self.kind!r}")
        if self.kind == "generated" and not self.synthetic:
            object.__setattr__(self, "synthetic", True)
        object.__setattr__(self, "generator", _json_safe(dict(self.generator), "provenance.generator"))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "location": self.location, "synthetic": self.synthetic,
                "generator": dict(self.generator)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        return cls(kind=data.get("kind", "manual"), source=data.get("source", ""), location=data.get("location"),
                   synthetic=bool(data.get("synthetic", False)), generator=data.get("generator") or {})


def _check_difficulty(value: Any) -> str | float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value.lower() in DIFFICULTY_LEVELS:
            return value.lower()
        try:
            value = float(value)
        except ValueError:
            raise DatasetError(f"`difficulty` must be one of {', '.join(DIFFICULTY_LEVELS)} or a number in [0, 1], "
                               f"got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value <= 1.0:
        raise DatasetError(f"`difficulty` must be one of {', '.join(DIFFICULTY_LEVELS)} or a number in [0, 1], "
                           f"got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TestCase:
    """One test case: what the model is asked, what a good answer is, and where the case came from.

    input: the prompt text, or a JSON mapping for structured inputs (e.g. ``{"question": ..., "context": ...}``).
    expected: the one expected output, if there is one (exact-match style scoring).
    references: reference answers (any of them is acceptable; what a judge or F1 compares against).
    difficulty: ``easy``/``medium``/``hard`` or a number in [0, 1]; None when unknown.
    domain: the area the case belongs to (``billing``, ``medication``...).
    tags: free labels for slicing.
    provenance: a :class:`Provenance` (``synthetic`` flag included).
    metadata: free JSON data kept with the case.
    id: assigned once and kept; defaults to :func:`content_id` of the input.
    """

    __test__ = False  # not a pytest test class, whatever its name says

    input: Any
    expected: str | None = None
    references: tuple[str, ...] = ()
    difficulty: str | float | None = None
    domain: str | None = None
    tags: tuple[str, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        value = self.input
        if isinstance(value, str):
            if not value.strip():
                raise DatasetError("`input` of a test case must be non-empty text")
        elif isinstance(value, Mapping):
            if not value:
                raise DatasetError("`input` of a test case must be non-empty text or a non-empty mapping")
            object.__setattr__(self, "input", _json_safe(dict(value), "input"))
        else:
            raise DatasetError(f"`input` of a test case must be text or a mapping, got {type(value).__name__}")
        if self.expected is not None and not isinstance(self.expected, str):
            object.__setattr__(self, "expected", str(self.expected))
        refs = (self.references,) if isinstance(self.references, str) else self.references
        object.__setattr__(self, "references", tuple(str(r) for r in refs))
        tags = (self.tags,) if isinstance(self.tags, str) else self.tags
        object.__setattr__(self, "tags", tuple(str(t) for t in tags))
        object.__setattr__(self, "difficulty", _check_difficulty(self.difficulty))
        if isinstance(self.provenance, Mapping):
            object.__setattr__(self, "provenance", Provenance.from_dict(self.provenance))
        elif not isinstance(self.provenance, Provenance):
            raise DatasetError(f"`provenance` must be a Provenance or a mapping, got {type(self.provenance).__name__}")
        object.__setattr__(self, "metadata", _json_safe(dict(self.metadata), "metadata"))
        if not self.id:
            object.__setattr__(self, "id", content_id(self.input))
        elif not isinstance(self.id, str):
            object.__setattr__(self, "id", str(self.id))

    @property
    def text(self) -> str:
        """The input as one string (structured inputs as canonical JSON): what dedup and anonymisation read."""
        return input_text(self.input)

    @property
    def synthetic(self) -> bool:
        return self.provenance.synthetic

    @property
    def answers(self) -> tuple[str, ...]:
        """Every acceptable answer: ``expected`` first, then the references (no repeats)."""
        out = ([self.expected] if self.expected is not None else []) + list(self.references)
        return tuple(dict.fromkeys(out))

    def replace(self, **changes: Any) -> TestCase:
        """A copy with ``changes`` applied; the id is kept unless ``id=`` is given."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise DatasetError(f"unknown test-case field(s) {sorted(unknown)}; fields are "
                               f"{', '.join(f.name for f in fields(self))}")
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "input": self.input, "expected": self.expected, "references": list(self.references),
                "difficulty": self.difficulty, "domain": self.domain, "tags": list(self.tags),
                "provenance": self.provenance.to_dict(), "metadata": dict(self.metadata)}

    def to_problem(self) -> dict[str, Any]:
        """The problem dict a score function receives: ``problem["input"]``, ``problem["expected"]``..."""
        out = self.to_dict()
        out["answers"] = list(self.answers)
        out["synthetic"] = self.synthetic
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "test case") -> TestCase:
        if not isinstance(data, Mapping):
            raise DatasetError(f"{where} must be a JSON object, got {type(data).__name__}")
        if "input" not in data:
            raise DatasetError(f"{where} has no `input` field (fields found: {', '.join(map(str, data)) or 'none'})")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"answers", "synthetic"}
        if unknown:
            raise DatasetError(f"{where} has unknown field(s) {sorted(unknown)}; put free data under `metadata`")
        try:
            return cls(input=data["input"], expected=data.get("expected"), references=data.get("references") or (),
                       difficulty=data.get("difficulty"), domain=data.get("domain"), tags=data.get("tags") or (),
                       provenance=Provenance.from_dict(data.get("provenance") or {}),
                       metadata=data.get("metadata") or {}, id=data.get("id") or "")
        except DatasetError as exc:
            raise DatasetError(f"{where}: {exc}") from None


@dataclass
class Guidelines:
    """Annotation guidelines, stored with the dataset so every annotator (human or judge) reads the same text.

    task: what annotators judge, in one or two sentences.
    criteria: what a good answer must do, one line each.
    rubric: the labels in order (for ordinal scales, worst to best) with what each means,
        e.g. ``{"0": "wrong", "1": "partly right", "2": "right"}``.
    scale: ``nominal``, ``ordinal`` or ``interval``: how the labels relate (agreement statistics need it).
    examples: worked examples, each a mapping with at least ``input`` and ``label`` (and ``rationale``).
    edge_cases: how to label the hard cases, one line each.
    """

    task: str = ""
    criteria: list[str] = field(default_factory=list)
    rubric: dict[str, str] = field(default_factory=dict)
    scale: str = "nominal"
    examples: list[dict[str, Any]] = field(default_factory=list)
    edge_cases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise DatasetError(f"`scale` must be one of {', '.join(SCALES)}, got {self.scale!r}")
        if isinstance(self.criteria, str) or isinstance(self.edge_cases, str):
            raise DatasetError("`criteria` and `edge_cases` must be lists of strings, not one string")
        self.criteria = [str(c) for c in self.criteria]
        self.edge_cases = [str(c) for c in self.edge_cases]
        self.rubric = {str(k): str(v) for k, v in dict(self.rubric).items()}
        for i, ex in enumerate(self.examples):
            if not isinstance(ex, Mapping) or "input" not in ex or "label" not in ex:
                raise DatasetError(f"guideline example #{i} must be a mapping with `input` and `label`, got {ex!r}")
            if self.rubric and str(ex["label"]) not in self.rubric:
                raise DatasetError(f"guideline example #{i} has label {ex['label']!r}, which is not in the rubric "
                                   f"({', '.join(self.rubric)})")
        self.examples = [_json_safe(dict(ex), f"examples[{i}]") for i, ex in enumerate(self.examples)]

    @property
    def labels(self) -> list[str]:
        """The rubric's labels in order."""
        return list(self.rubric)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "criteria": list(self.criteria), "rubric": dict(self.rubric), "scale": self.scale,
                "examples": [dict(e) for e in self.examples], "edge_cases": list(self.edge_cases)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Guidelines:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise DatasetError(f"guidelines have unknown field(s) {sorted(unknown)}; fields are {', '.join(known)}")
        return cls(**{k: data[k] for k in known if k in data})

    def to_markdown(self) -> str:
        """The guidelines as a page annotators can read."""
        lines = ["# Annotation guidelines", "", self.task or "(no task description)", ""]
        if self.criteria:
            lines += ["## Criteria", *[f"- {c}" for c in self.criteria], ""]
        if self.rubric:
            lines += [f"## Rubric ({self.scale})", *[f"- **{k}**: {v}" for k, v in self.rubric.items()], ""]
        if self.examples:
            lines += ["## Examples"]
            for ex in self.examples:
                why = f" ({ex['rationale']})" if ex.get("rationale") else ""
                lines.append(f"- {input_text(ex['input'])} → **{ex['label']}**{why}")
            lines.append("")
        if self.edge_cases:
            lines += ["## Edge cases", *[f"- {c}" for c in self.edge_cases], ""]
        return "\n".join(lines)


def as_cases(items: Sequence[Any]) -> list[TestCase]:
    """TestCase objects from cases or their dicts (what ``BuilderDataset(cases=...)`` accepts)."""
    out = []
    for i, item in enumerate(items):
        out.append(item if isinstance(item, TestCase) else TestCase.from_dict(item, where=f"case #{i}"))
    return out
