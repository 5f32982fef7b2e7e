"""A built dataset: test cases in a fixed order, a content-hash version, a changelog, and the guidelines.

On disk a dataset is a folder: ``cases.jsonl`` (one :class:`TestCase` per line) and ``manifest.json``
(name, version, counts, guidelines, changelog). Other files in the folder (annotations...) are left alone.

The version is a hash of the content (the cases in order and the guidelines), never of a clock: two people who
build the same cases get the same version, and any edit gives a new one. Every change made through the API is
one :class:`ChangeEntry` (what, how many before/after, versions before/after, when).

A ``BuilderDataset`` is usable wherever bayesbench takes a dataset: the engine asks it for
``__bayesbench_problems__()``, the list of :meth:`TestCase.to_problem` dicts, so a score function reads
``problem["input"]``, ``problem["expected"]``, ``problem["answers"]``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, overload

from ..errors import DatasetError
from ._schema import Guidelines, TestCase, as_cases, canonical_json, content_id

FORMAT = "bayesbench.builder/1"
CASES_FILE = "cases.jsonl"
MANIFEST_FILE = "manifest.json"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class ChangeEntry:
    """One recorded change: ``action`` (add, remove, edit, dedup, anonymize, external-edit...), a ``detail``
    sentence, case counts and versions before and after, extra ``counts`` (e.g. duplicates by kind), a UTC time."""

    action: str
    detail: str
    n_before: int
    n_after: int
    version_before: str
    version_after: str
    at: str = field(default_factory=_now)
    counts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "detail": self.detail, "n_before": self.n_before, "n_after": self.n_after,
                "version_before": self.version_before, "version_after": self.version_after, "at": self.at,
                "counts": dict(self.counts)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChangeEntry:
        return cls(action=str(data["action"]), detail=str(data.get("detail", "")), n_before=int(data["n_before"]),
                   n_after=int(data["n_after"]), version_before=str(data["version_before"]),
                   version_after=str(data["version_after"]), at=str(data.get("at", "")),
                   counts=dict(data.get("counts") or {}))


def content_version(cases: Sequence[TestCase], guidelines: Guidelines | None) -> str:
    """``v-`` + 16 hex digits of the SHA-256 over the cases (in order) and the guidelines."""
    h = hashlib.sha256()
    for case in cases:
        h.update(canonical_json(case.to_dict()).encode("utf-8"))
        h.update(b"\n")
    h.update(canonical_json(guidelines.to_dict() if guidelines else None).encode("utf-8"))
    return "v-" + h.hexdigest()[:16]


class BuilderDataset(Sequence[TestCase]):
    """An ordered, versioned collection of :class:`TestCase` with stable ids, a changelog and guidelines.

    name: a short name (used for exports: the lm-eval task name, the HF split's description).
    cases: TestCase objects or their dicts; a case without an id gets :func:`content_id`, and a repeated
        content id (an exact duplicate input) gets ``-2``, ``-3``... so every id is unique.
    guidelines: the annotation :class:`Guidelines`, or None.
    description: free text kept in the manifest.
    metadata: free JSON data kept in the manifest.
    """

    def __init__(self, name: str = "dataset", cases: Iterable[Any] = (), *, guidelines: Guidelines | None = None,
                 description: str = "", metadata: Mapping[str, Any] | None = None) -> None:
        if not isinstance(name, str) or not name.strip():
            raise DatasetError(f"`name` must be non-empty text, got {name!r}")
        if guidelines is not None and not isinstance(guidelines, Guidelines):
            guidelines = Guidelines.from_dict(guidelines) if isinstance(guidelines, Mapping) else guidelines
            if not isinstance(guidelines, Guidelines):
                raise DatasetError(f"`guidelines` must be a Guidelines or a mapping, got {type(guidelines).__name__}")
        self.name = name
        self.description = description
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._guidelines = guidelines
        self._cases: list[TestCase] = []
        self._index: dict[str, int] = {}
        self.changelog: list[ChangeEntry] = []
        self._place(as_cases(list(cases)))

    # --- the Sequence protocol -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._cases)

    @overload
    def __getitem__(self, key: int) -> TestCase: ...
    @overload
    def __getitem__(self, key: slice) -> list[TestCase]: ...
    @overload
    def __getitem__(self, key: str) -> TestCase: ...

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.get(key)
        return self._cases[key]

    def __iter__(self) -> Iterator[TestCase]:
        return iter(list(self._cases))

    def __contains__(self, item: object) -> bool:
        """``"c-…" in ds`` asks for an id; ``case in ds`` for an equal case."""
        if isinstance(item, str):
            return item in self._index
        return isinstance(item, TestCase) and item.id in self._index and self.get(item.id) == item

    def __repr__(self) -> str:
        return f"BuilderDataset(name={self.name!r}, n={len(self)}, version={self.version!r})"

    def __bayesbench_problems__(self) -> list[dict[str, Any]]:
        """What the engine runs: one problem dict per case, in order."""
        return self.to_problems()

    # --- reading ---------------------------------------------------------------------------------------------
    @property
    def cases(self) -> list[TestCase]:
        """A copy of the cases in order."""
        return list(self._cases)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self._cases]

    @property
    def guidelines(self) -> Guidelines | None:
        return self._guidelines

    @property
    def version(self) -> str:
        """The content hash of the cases and guidelines (see :func:`content_version`)."""
        return content_version(self._cases, self._guidelines)

    def get(self, case_id: str) -> TestCase:
        try:
            return self._cases[self._index[case_id]]
        except KeyError:
            raise DatasetError(f"no case with id {case_id!r} in dataset {self.name!r} ({len(self)} cases)") from None

    def to_problems(self) -> list[dict[str, Any]]:
        """One :meth:`TestCase.to_problem` dict per case, in order (what a bayesbench run receives)."""
        return [c.to_problem() for c in self._cases]

    def counts(self) -> dict[str, Any]:
        """Cases in total, synthetic, with an expected answer / references, by source kind, domain, difficulty."""
        def tally(values: Iterable[Any]) -> dict[str, int]:
            out: dict[str, int] = {}
            for v in values:
                key = "none" if v is None else str(v)
                out[key] = out.get(key, 0) + 1
            return dict(sorted(out.items()))

        cs = self._cases
        return {"cases": len(cs), "synthetic": sum(c.synthetic for c in cs),
                "with_expected": sum(c.expected is not None for c in cs),
                "with_references": sum(bool(c.references) for c in cs),
                "by_source": tally(c.provenance.kind for c in cs), "by_domain": tally(c.domain for c in cs),
                "by_difficulty": tally(c.difficulty for c in cs)}

    def summary(self) -> str:
        c = self.counts()
        lines = [f"Dataset {self.name!r}: {c['cases']} cases, version {self.version}",
                 f"  synthetic: {c['synthetic']}, with expected answer: {c['with_expected']}, "
                 f"with references: {c['with_references']}",
                 "  by source: " + ", ".join(f"{k}={v}" for k, v in c["by_source"].items()),
                 "  by domain: " + ", ".join(f"{k}={v}" for k, v in c["by_domain"].items()),
                 f"  guidelines: {'yes' if self._guidelines else 'none'}; changelog: {len(self.changelog)} entries"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The manifest (without the cases)."""
        return {"format": FORMAT, "name": self.name, "description": self.description, "version": self.version,
                "n_cases": len(self), "counts": self.counts(),
                "guidelines": self._guidelines.to_dict() if self._guidelines else None,
                "changelog": [e.to_dict() for e in self.changelog], "metadata": dict(self.metadata),
                "files": {"cases": CASES_FILE}}

    # --- changing (every change is a changelog entry) ---------------------------------------------------------
    def _place(self, cases: Sequence[TestCase]) -> None:
        """Append cases, giving exact-duplicate content ids a ``-2``, ``-3``... suffix; explicit ids must be new."""
        for case in cases:
            if case.id in self._index:
                if case.id != content_id(case.input):
                    raise DatasetError(f"a case with id {case.id!r} is already in dataset {self.name!r}; ids must be "
                                       "unique (leave `id` empty to get a content-derived one)")
                k = 2
                while f"{case.id}-{k}" in self._index:
                    k += 1
                case = case.replace(id=f"{case.id}-{k}")
            self._index[case.id] = len(self._cases)
            self._cases.append(case)

    def _reindex(self) -> None:
        self._index = {c.id: i for i, c in enumerate(self._cases)}

    def _log(self, action: str, detail: str, n_before: int, version_before: str,
             counts: Mapping[str, Any] | None = None) -> ChangeEntry:
        entry = ChangeEntry(action=action, detail=detail, n_before=n_before, n_after=len(self),
                            version_before=version_before, version_after=self.version, counts=dict(counts or {}))
        self.changelog.append(entry)
        return entry

    def add(self, cases: Iterable[Any], *, action: str = "add", detail: str = "",
            counts: Mapping[str, Any] | None = None) -> ChangeEntry:
        """Append cases (TestCase objects or dicts); records one changelog entry."""
        n, v = len(self), self.version
        new = as_cases(list(cases))
        self._place(new)
        return self._log(action, detail or f"added {len(new)} case(s)", n, v, counts)

    def remove(self, ids: Iterable[str], *, reason: str = "", action: str = "remove",
               counts: Mapping[str, Any] | None = None) -> ChangeEntry:
        """Remove cases by id (unknown ids are an error); records one changelog entry."""
        drop = set(ids)
        missing = sorted(drop - set(self._index))
        if missing:
            raise DatasetError(f"cannot remove unknown case id(s) {missing[:5]} from dataset {self.name!r}")
        n, v = len(self), self.version
        self._cases = [c for c in self._cases if c.id not in drop]
        self._reindex()
        return self._log(action, reason or f"removed {len(drop)} case(s)", n, v, counts)

    def edit(self, case_id: str, *, reason: str = "", **changes: Any) -> ChangeEntry:
        """Change fields of one case (its id is kept); records one changelog entry."""
        if "id" in changes:
            raise DatasetError("a case's id is assigned once and kept; remove the case and add a new one instead")
        n, v = len(self), self.version
        i = self._index.get(case_id)
        if i is None:
            raise DatasetError(f"no case with id {case_id!r} in dataset {self.name!r}")
        self._cases[i] = self._cases[i].replace(**changes)
        return self._log("edit", reason or f"edited {case_id}: {', '.join(sorted(changes))}", n, v)

    def replace_cases(self, cases: Sequence[TestCase], *, action: str, detail: str,
                      counts: Mapping[str, Any] | None = None) -> ChangeEntry:
        """Swap in a transformed list of cases (what dedup and anonymisation do); ids must stay unique."""
        n, v = len(self), self.version
        new = as_cases(list(cases))
        ids = [c.id for c in new]
        if len(set(ids)) != len(ids):
            raise DatasetError(f"{action}: the new cases have repeated ids; every id must be unique")
        self._cases = new
        self._reindex()
        return self._log(action, detail, n, v, counts)

    def set_guidelines(self, guidelines: Guidelines | None, *, reason: str = "") -> ChangeEntry:
        """Store (or clear) the annotation guidelines; part of the version, so recorded in the changelog."""
        if guidelines is not None and not isinstance(guidelines, Guidelines):
            guidelines = Guidelines.from_dict(guidelines)
        n, v = len(self), self.version
        self._guidelines = guidelines
        return self._log("guidelines", reason or ("guidelines set" if guidelines else "guidelines cleared"), n, v)

    def copy(self, name: str | None = None) -> BuilderDataset:
        """An independent copy (same cases, guidelines, changelog)."""
        out = BuilderDataset(name or self.name, self._cases, guidelines=self._guidelines,
                             description=self.description, metadata=self.metadata)
        out.changelog = list(self.changelog)
        return out

    # --- files ----------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``cases.jsonl`` and ``manifest.json`` into the folder ``path`` (created); returns the folder."""
        folder = Path(path)
        if folder.suffix in (".jsonl", ".json"):
            raise DatasetError(f"`path` is a folder that will hold {CASES_FILE} and {MANIFEST_FILE}, got a file "
                               f"name {str(folder)!r}; pass e.g. {str(folder.with_suffix(''))!r}")
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (CASES_FILE + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for case in self._cases:
                fh.write(json.dumps(case.to_dict(), ensure_ascii=False) + "\n")
        os.replace(tmp, folder / CASES_FILE)
        tmp = folder / (MANIFEST_FILE + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, folder / MANIFEST_FILE)
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BuilderDataset:
        """Read a dataset folder (or its ``manifest.json``, or a bare cases JSONL file without a manifest).

        A cases file edited by hand since it was saved is accepted: its version no longer matches the
        manifest, and the load records an ``external-edit`` changelog entry saying so.
        """
        p = Path(path)
        if not p.exists():
            raise DatasetError(f"dataset path {str(p)!r} does not exist; pass a folder written by "
                               "BuilderDataset.save (or `bayesbench build collect`)")
        if p.is_dir():
            manifest_path, cases_path = p / MANIFEST_FILE, p / CASES_FILE
        elif p.name == MANIFEST_FILE:
            manifest_path, cases_path = p, p.parent / CASES_FILE
        else:
            manifest_path, cases_path = None, p
        manifest: dict[str, Any] = {}
        if manifest_path is not None:
            if not manifest_path.exists():
                raise DatasetError(f"{str(p)!r} has no {MANIFEST_FILE}; is it a dataset folder?")
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{manifest_path}: not valid JSON ({exc})") from None
            if manifest.get("format") != FORMAT:
                raise DatasetError(f"{manifest_path}: format {manifest.get('format')!r} is not {FORMAT!r}")
            cases_path = manifest_path.parent / manifest.get("files", {}).get("cases", CASES_FILE)
        cases = read_cases_jsonl(cases_path)
        guidelines = Guidelines.from_dict(manifest["guidelines"]) if manifest.get("guidelines") else None
        ds = cls(manifest.get("name") or cases_path.stem, guidelines=guidelines,
                 description=manifest.get("description", ""), metadata=manifest.get("metadata") or {})
        ds._place(cases)
        if len({c.id for c in cases}) != len(cases):
            raise DatasetError(f"{cases_path}: repeated case ids; every id must be unique")
        ds.changelog = [ChangeEntry.from_dict(e) for e in manifest.get("changelog", [])]
        recorded = manifest.get("version")
        if recorded is not None and recorded != ds.version:
            ds.changelog.append(ChangeEntry(
                action="external-edit", detail=f"{cases_path.name} or the guidelines changed outside bayesbench "
                f"since version {recorded} was saved", n_before=int(manifest.get("n_cases", len(ds))),
                n_after=len(ds), version_before=recorded, version_after=ds.version))
        return ds


def read_cases_jsonl(path: str | os.PathLike[str]) -> list[TestCase]:
    """Cases from a JSONL file in the schema of :meth:`TestCase.to_dict`; errors name the line."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"cases file {str(p)!r} does not exist")
    out: list[TestCase] = []
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{p}:{lineno}: not valid JSON ({exc.msg})") from None
            out.append(TestCase.from_dict(data, where=f"{p}:{lineno}"))
    return out
