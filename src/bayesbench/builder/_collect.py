"""Collection: test cases from logs of real queries, expert files and Hugging Face datasets.

A field mapping says which source field fills which test-case field: ``fields={"input": "query",
"expected": "answer"}``; a dotted name reads a nested JSON field (``"request.text"``). Without a mapping the
first of ``input``, ``query``, ``question``, ``prompt`` found is the input, and the schema's own field names
(``expected``, ``references``, ``domain``...) are read as they are. Source fields that are not mapped are kept
under ``metadata`` (``keep_unmapped=True``), so nothing of the original record is lost silently.

Errors name the file and the line (JSONL) or row (CSV, counting the header as line 1) and list the fields found.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import DatasetError, missing_dependency
from ._schema import Provenance, TestCase

#: Test-case fields a mapping may fill.
MAPPABLE = ("input", "expected", "references", "difficulty", "domain", "tags", "id")
#: Source fields tried, in order, for the input when no mapping names it.
INPUT_GUESSES = ("input", "query", "question", "prompt", "text")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv"}


def read_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, record)`` pairs of a JSONL, JSON (array of objects), CSV or TSV file."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"source file {str(p)!r} does not exist (or is not a file)")
    kind = _SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise DatasetError(f"{p}: unknown file type {p.suffix!r}; use .jsonl, .json, .csv or .tsv")
    if kind == "jsonl":
        with p.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{p}:{lineno}: not valid JSON ({exc.msg}); each line must be one object") \
                        from None
                if not isinstance(record, dict):
                    raise DatasetError(f"{p}:{lineno}: each line must be a JSON object, got {type(record).__name__}")
                yield lineno, record
    elif kind == "json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, list):
            raise DatasetError(f"{p}: a .json source must be an array of objects, got {type(data).__name__}")
        for i, record in enumerate(data, 1):
            if not isinstance(record, dict):
                raise DatasetError(f"{p}: item {i} must be an object, got {type(record).__name__}")
            yield i, record
    else:
        with p.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if kind == "tsv" else ",")
            if not reader.fieldnames:
                raise DatasetError(f"{p}: empty file; the first line must name the columns")
            for row in reader:
                if None in row:
                    raise DatasetError(f"{p}:{reader.line_num}: more values than the {len(reader.fieldnames)} columns "
                                       "of the header")
                yield reader.line_num, {k: v for k, v in row.items() if k is not None}


def _get(record: Mapping[str, Any], dotted: str) -> tuple[bool, Any]:
    if dotted in record:
        return True, record[dotted]
    value: Any = record
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _as_list(value: Any, separator: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(separator) if v.strip()) if separator else (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def _resolve_fields(fields: Mapping[str, str] | None, first: Mapping[str, Any], where: str) -> dict[str, str]:
    mapping = dict(fields or {})
    unknown = set(mapping) - set(MAPPABLE)
    if unknown:
        raise DatasetError(f"`fields` maps unknown test-case field(s) {sorted(unknown)}; mappable fields are "
                           f"{', '.join(MAPPABLE)} (everything else is kept under metadata)")
    if "input" not in mapping:
        guess = next((k for k in INPUT_GUESSES if k in first), None)
        if guess is None:
            raise DatasetError(f"{where}: no input field: none of {list(INPUT_GUESSES)} is present (fields found: "
                               f"{', '.join(map(str, first)) or 'none'}); map it, e.g. fields={{'input': 'my_column'}}"
                               " (CLI: --field input=my_column)")
        mapping["input"] = guess
    for name in MAPPABLE:
        if name not in mapping and name in first and name != "input":
            mapping[name] = name
    return mapping


def _case(record: Mapping[str, Any], mapping: Mapping[str, str], provenance: Provenance, where: str, *,
          domain: str | None, tags: Sequence[str], separator: str, keep_unmapped: bool) -> TestCase:
    found, text = _get(record, mapping["input"])
    if not found or text is None or (isinstance(text, str) and not text.strip()):
        state = "is empty" if found else "is missing"
        raise DatasetError(f"{where}: the input field {mapping['input']!r} {state} (fields found: "
                           f"{', '.join(map(str, record)) or 'none'}); fix the record or map another field with "
                           "fields={'input': ...}")
    if isinstance(text, (list, tuple)):  # e.g. a chat transcript: keep its content readable, not a Python repr
        text = json.dumps(text, ensure_ascii=False)
    elif not isinstance(text, (str, Mapping)):
        text = str(text)
    values = {name: _get(record, src)[1] for name, src in mapping.items() if name != "input"}
    used = {src.split(".")[0] for src in mapping.values()}
    metadata = {k: v for k, v in record.items() if k not in used and k != "metadata"} if keep_unmapped else {}
    if isinstance(record.get("metadata"), Mapping):
        metadata.update(record["metadata"])
    expected = values.get("expected")
    try:
        return TestCase(
            input=text,
            expected=None if expected in (None, "") else str(expected),
            references=_as_list(values.get("references"), separator),
            difficulty=values.get("difficulty"),
            domain=(values.get("domain") or domain) or None,
            tags=tuple(dict.fromkeys([*tags, *_as_list(values.get("tags"), separator)])),
            provenance=provenance,
            metadata=metadata,
            id=str(values["id"]) if values.get("id") not in (None, "") else "",
        )
    except DatasetError as exc:
        hint = " (or pass keep_unmapped=False to drop the unmapped fields)" if "`metadata`" in str(exc) else ""
        raise DatasetError(f"{where}: {exc}{hint}") from None


def cases_from_records(records: Iterator[tuple[int, Mapping[str, Any]]], *, source: str, kind: str,
                       fields: Mapping[str, str] | None = None, domain: str | None = None,
                       tags: Sequence[str] = (), list_separator: str = "|",
                       keep_unmapped: bool = True) -> list[TestCase]:
    """Test cases from ``(location, record)`` pairs; the shared core of every collector."""
    out: list[TestCase] = []
    mapping: dict[str, str] | None = None
    present: dict[str, bool] = {}
    for location, record in records:
        where = f"{source}:{location}" if kind != "hf" else f"{source} row {location}"
        if mapping is None:
            mapping = _resolve_fields(fields, record, where)
            present = dict.fromkeys(mapping, False)
        for name, src in mapping.items():
            if not present[name] and _get(record, src)[0]:
                present[name] = True
        out.append(_case(record, mapping, Provenance(kind=kind, source=source, location=location), where,
                         domain=domain, tags=tags, separator=list_separator, keep_unmapped=keep_unmapped))
    if mapping is None:
        raise DatasetError(f"{source}: no records; the source is empty")
    never = sorted(name for name, seen in present.items() if not seen)
    if never:
        raise DatasetError(f"{source}: the mapped field(s) {', '.join(f'{n}={mapping[n]!r}' for n in never)} are "
                           "in no record; check the spelling of the mapping")
    return out


def collect_logs(path: str | os.PathLike[str], *, fields: Mapping[str, str] | None = None, domain: str | None = None,
                 tags: Sequence[str] = (), list_separator: str = "|", keep_unmapped: bool = True) -> list[TestCase]:
    """Test cases from a log of real user queries (JSONL, JSON, CSV or TSV), provenance ``log``.

    fields: ``{test-case field: source field}`` (see the module docstring); default: guessed.
    domain, tags: given to every case (a ``domain``/``tags`` field of the record wins / is added).
    list_separator: splits text ``references`` and ``tags`` (CSV) into several, default ``"|"``.
    keep_unmapped: keep the record's other fields under ``metadata``, default True.
    """
    return cases_from_records(read_records(path), source=str(path), kind="log", fields=fields, domain=domain,
                              tags=tags, list_separator=list_separator, keep_unmapped=keep_unmapped)


def collect_expert(path: str | os.PathLike[str], *, fields: Mapping[str, str] | None = None,
                   domain: str | None = None, tags: Sequence[str] = (), list_separator: str = "|",
                   keep_unmapped: bool = True) -> list[TestCase]:
    """Test cases written by experts (same formats and options as :func:`collect_logs`), provenance ``expert``."""
    return cases_from_records(read_records(path), source=str(path), kind="expert", fields=fields, domain=domain,
                              tags=tags, list_separator=list_separator, keep_unmapped=keep_unmapped)


def collect_hf(source: str | os.PathLike[str], *, split: str = "train", config: str | None = None,
               data_files: Any = None, fields: Mapping[str, str] | None = None, domain: str | None = None,
               tags: Sequence[str] = (), limit: int | None = None, list_separator: str = "|",
               keep_unmapped: bool = True) -> list[TestCase]:
    """Test cases from a Hugging Face ``datasets`` dataset, provenance ``hf``.

    source: a folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``, a builder name with
        ``data_files`` (``"json"``, ``"csv"``, ``"parquet"``), or a hub name (``"org/name"``; set
        ``HF_DATASETS_OFFLINE=1`` to use only the local cache). Loaded with ``datasets`` (the ``datasets`` extra).
    split: the split to read, default ``"train"``. config: the hub configuration, if any.
    limit: read at most this many rows (the first ones), default all.
    """
    try:
        import datasets
    except ImportError:
        raise missing_dependency("datasets", "datasets", "collecting from Hugging Face datasets") from None
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise DatasetError(f"`limit` must be a positive integer or None, got {limit!r}")
    path = Path(source)
    try:
        if path.is_dir() and ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()):
            loaded: Any = datasets.load_from_disk(str(path))
            if isinstance(loaded, datasets.DatasetDict):
                if split not in loaded:
                    raise DatasetError(f"{source}: no split {split!r}; splits are {', '.join(loaded)}")
                loaded = loaded[split]
        else:
            loaded = datasets.load_dataset(str(source), config, data_files=data_files, split=split)
    except DatasetError:
        raise
    except Exception as exc:  # datasets raises many kinds (FileNotFoundError, ConnectionError, ValueError...)
        raise DatasetError(f"cannot load Hugging Face dataset {str(source)!r} (split {split!r}): "
                           f"{type(exc).__name__}: {exc}") from None
    n = len(loaded) if limit is None else min(limit, len(loaded))
    rows = ((i, dict(loaded[i])) for i in range(n))
    return cases_from_records(rows, source=str(source), kind="hf", fields=fields, domain=domain, tags=tags,
                              list_separator=list_separator, keep_unmapped=keep_unmapped)
