"""Export a built dataset to JSONL, Hugging Face ``datasets``, Inspect, and an lm-eval task; and back.

Every export carries the case id, so results from any tool can be joined back to the dataset. Exports are
local files or in-memory objects: nothing is uploaded. A dataset that holds real logged queries and has not
been anonymised yet triggers a :class:`RawDataWarning` (the CLI refuses such an export without
``--allow-raw``).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

from ..errors import DatasetError, missing_dependency
from ._dataset import BuilderDataset
from ._schema import Provenance, TestCase, input_text


class RawDataWarning(UserWarning):
    """A dataset with real logged queries is exported before :func:`~bayesbench.builder.anonymize` ran on it."""


def is_anonymized(dataset: BuilderDataset) -> bool:
    """True when the last change touching the cases' text was an anonymisation, or no case came from a log."""
    if not any(c.provenance.kind == "log" for c in dataset):
        return True
    for entry in reversed(dataset.changelog):
        if entry.action == "anonymize":
            return True
        if entry.action in ("add", "edit", "external-edit"):
            return False
    return False


def check_privacy(dataset: BuilderDataset, what: str) -> None:
    """Warn (``RawDataWarning``) when logged queries leave as they were collected."""
    if not is_anonymized(dataset):
        warnings.warn(f"{what}: dataset {dataset.name!r} holds logged user queries that were not anonymised since "
                      "they were last added or edited; run bayesbench.builder.anonymize(...) (CLI: bayesbench build "
                      "anonymize) first", RawDataWarning, stacklevel=3)


# --- JSONL --------------------------------------------------------------------------------------------------
def export_jsonl(dataset: BuilderDataset, path: str | os.PathLike[str]) -> Path:
    """One :meth:`TestCase.to_dict` per line (what :meth:`BuilderDataset.load` reads back); returns the path."""
    check_privacy(dataset, "export_jsonl")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as fh:
        for case in dataset:
            fh.write(json.dumps(case.to_dict(), ensure_ascii=False) + "\n")
    return p


# --- Hugging Face datasets ----------------------------------------------------------------------------------
def _flat_row(case: TestCase) -> dict[str, Any]:
    return {"id": case.id, "input": case.text, "input_is_json": not isinstance(case.input, str),
            "expected": case.expected, "references": list(case.references),
            "difficulty": None if case.difficulty is None else str(case.difficulty), "domain": case.domain,
            "tags": list(case.tags), "synthetic": case.synthetic,
            "provenance": json.dumps(case.provenance.to_dict(), ensure_ascii=False),
            "metadata": json.dumps(dict(case.metadata), ensure_ascii=False)}


def _from_flat_row(row: dict[str, Any], where: str) -> TestCase:
    try:
        text = row["input"]
        value = json.loads(text) if row.get("input_is_json") else text
        return TestCase(input=value, expected=row.get("expected"), references=row.get("references") or (),
                        difficulty=row.get("difficulty"), domain=row.get("domain"), tags=row.get("tags") or (),
                        provenance=Provenance.from_dict(json.loads(row.get("provenance") or "{}")),
                        metadata=json.loads(row.get("metadata") or "{}"), id=row.get("id") or "")
    except (KeyError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{where}: not a bayesbench builder row ({type(exc).__name__}: {exc}); for other "
                           "datasets use collect_hf(..., fields=...)") from None


def to_hf(dataset: BuilderDataset) -> Any:
    """A ``datasets.Dataset`` with one row per case (structured inputs as JSON text; provenance and metadata as
    JSON text columns); its description names the dataset and version."""
    try:
        import datasets
    except ImportError:
        raise missing_dependency("datasets", "datasets", "exporting to Hugging Face datasets") from None
    check_privacy(dataset, "to_hf")
    features = datasets.Features({
        "id": datasets.Value("string"), "input": datasets.Value("string"), "input_is_json": datasets.Value("bool"),
        "expected": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string")),
        "difficulty": datasets.Value("string"), "domain": datasets.Value("string"),
        "tags": datasets.Sequence(datasets.Value("string")), "synthetic": datasets.Value("bool"),
        "provenance": datasets.Value("string"), "metadata": datasets.Value("string")})
    rows = [_flat_row(c) for c in dataset]
    columns = {name: [r[name] for r in rows] for name in features}
    info = datasets.DatasetInfo(description=f"bayesbench builder dataset {dataset.name!r}, version {dataset.version}",
                                features=features)
    return datasets.Dataset.from_dict(columns, features=features, info=info)


def save_hf(dataset: BuilderDataset, path: str | os.PathLike[str]) -> Path:
    """:func:`to_hf` then ``save_to_disk(path)``; read back with :func:`from_hf` or ``datasets.load_from_disk``."""
    p = Path(path)
    to_hf(dataset).save_to_disk(str(p))
    return p


def from_hf(hf_dataset: Any, *, name: str = "dataset") -> BuilderDataset:
    """A ``BuilderDataset`` from a ``datasets.Dataset`` written by :func:`to_hf` (or a folder of ``save_hf``)."""
    if isinstance(hf_dataset, (str, os.PathLike)):
        try:
            import datasets
        except ImportError:
            raise missing_dependency("datasets", "datasets", "reading Hugging Face datasets") from None
        hf_dataset = datasets.load_from_disk(str(hf_dataset))
    cols = set(getattr(hf_dataset, "column_names", []) or [])
    if not {"id", "input", "provenance", "metadata"} <= cols:
        raise DatasetError(f"not a dataset written by to_hf (columns: {sorted(cols)}); use "
                           "collect_hf(source, fields=...) to collect cases from another dataset")
    desc = getattr(getattr(hf_dataset, "info", None), "description", "") or ""
    found = re.search(r"dataset '([^']+)'", desc)
    cases = [_from_flat_row(dict(row), f"row {i}") for i, row in enumerate(hf_dataset)]
    return BuilderDataset(found.group(1) if found else name, cases)


# --- Inspect ------------------------------------------------------------------------------------------------
def to_inspect(dataset: BuilderDataset) -> Any:
    """An ``inspect_ai.dataset.MemoryDataset``: one ``Sample`` per case (``id`` = case id, ``target`` = the
    answers, the rest of the case under ``metadata``)."""
    try:
        from inspect_ai.dataset import MemoryDataset, Sample
    except ImportError:
        raise missing_dependency("inspect-ai", "inspect", "exporting to an Inspect dataset") from None
    check_privacy(dataset, "to_inspect")
    samples = []
    for case in dataset:
        meta = case.to_dict()
        meta.pop("id")
        meta.pop("input")
        samples.append(Sample(input=case.text, target=list(case.answers), id=case.id,
                              metadata={"bayesbench_case": meta, "input_is_json": not isinstance(case.input, str)}))
    return MemoryDataset(samples, name=dataset.name)


def export_inspect_jsonl(dataset: BuilderDataset, path: str | os.PathLike[str]) -> Path:
    """The samples of :func:`to_inspect` as JSONL (``id``, ``input``, ``target``, ``metadata``), the file format
    ``inspect_ai.dataset.json_dataset(path)`` reads with its default fields; no ``inspect_ai`` needed to write."""
    check_privacy(dataset, "export_inspect_jsonl")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as fh:
        for case in dataset:
            meta = case.to_dict()
            meta.pop("id")
            meta.pop("input")
            row = {"id": case.id, "input": case.text, "target": list(case.answers),
                   "metadata": {"bayesbench_case": meta, "input_is_json": not isinstance(case.input, str)}}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return p


def from_inspect(inspect_dataset: Any, *, name: str | None = None) -> BuilderDataset:
    """A ``BuilderDataset`` from an Inspect dataset: the exact inverse of :func:`to_inspect`; other datasets'
    samples become cases with ``expected`` = the first target and ``references`` = the rest."""
    cases = []
    for i, sample in enumerate(inspect_dataset):
        meta = dict(getattr(sample, "metadata", None) or {})
        case_meta = meta.get("bayesbench_case")
        text = sample.input if isinstance(sample.input, str) else None
        if text is None:
            raise DatasetError(f"Inspect sample #{i} has a message-list input; only text inputs become test cases")
        sid = "" if sample.id is None else str(sample.id)
        if isinstance(case_meta, dict):
            value = json.loads(text) if meta.get("input_is_json") else text
            cases.append(TestCase.from_dict({**case_meta, "id": sid, "input": value}, where=f"Inspect sample #{i}"))
            continue
        target = sample.target if isinstance(sample.target, list) else ([sample.target] if sample.target else [])
        cases.append(TestCase(input=text, expected=target[0] if target else None, references=tuple(target[1:]),
                              provenance=Provenance(kind="manual", source=f"inspect:{getattr(inspect_dataset, 'name', '')}",
                                                    location=i), metadata=meta, id=sid))
    return BuilderDataset(name or getattr(inspect_dataset, "name", None) or "dataset", cases)


# --- lm-eval ------------------------------------------------------------------------------------------------
def _task_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_").lower()
    return slug or "bayesbench_task"


def export_lm_eval(dataset: BuilderDataset, folder: str | os.PathLike[str], *, task: str | None = None,
                   prompt: str = "{{input}}", until: tuple[str, ...] = ("\n\n",), max_gen_toks: int = 256,
                   relative_paths: bool = False) -> Path:
    """Write an lm-eval (v0.4 task format) generative task: ``<task>.yaml`` and ``<task>.jsonl``.

    The YAML loads the JSONL with ``dataset_path: json`` into a ``test`` split, prompts with ``prompt``
    (Jinja over the row: ``input``, ``expected``, ``answers``, ``domain``...), targets ``expected`` (else the
    first reference), and scores ``exact_match`` (case and punctuation ignored). Cases with no answer at all
    cannot be scored by exact match and are left out (their count is in the YAML's ``metadata``).
    relative_paths: write the data file path relative to the YAML's folder (run lm_eval from that folder),
    default False (an absolute path). Run it with ``lm_eval --tasks <task> --include_path <folder> ...``.
    Returns the YAML path.
    """
    check_privacy(dataset, "export_lm_eval")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    name = _task_name(task or dataset.name)
    data_path = out / f"{name}.jsonl"
    kept = skipped = 0
    with data_path.open("w", encoding="utf-8") as fh:
        for case in dataset:
            if not case.answers:
                skipped += 1
                continue
            row = {"id": case.id, "input": input_text(case.input), "expected": case.answers[0],
                   "answers": list(case.answers), "domain": case.domain, "difficulty": case.difficulty,
                   "tags": list(case.tags), "synthetic": case.synthetic}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            kept += 1
    if kept == 0:
        raise DatasetError(f"dataset {dataset.name!r} has no case with an expected answer or references; an lm-eval "
                           "exact-match task needs targets")
    data_ref = data_path.name if relative_paths else str(data_path.resolve())
    config = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": data_ref}},
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": prompt,
        "doc_to_target": "{{expected}}",
        "generation_kwargs": {"until": list(until), "do_sample": False, "max_gen_toks": int(max_gen_toks)},
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                         "ignore_case": True, "ignore_punctuation": True}],
        "metadata": {"version": 1.0, "bayesbench_dataset": dataset.name, "bayesbench_version": dataset.version,
                     "cases": kept, "skipped_without_answer": skipped},
    }
    yaml_path = out / f"{name}.yaml"
    yaml_path.write_text(_to_yaml(config), encoding="utf-8")
    return yaml_path


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _to_yaml(value: Any, indent: int = 0) -> str:
    """A small YAML writer for plain dicts/lists/scalars (no PyYAML dependency for writing a config)."""
    pad = "  " * indent
    lines = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:")
                lines.append(_to_yaml(v, indent + 1).rstrip("\n"))
            else:
                empty = "{}" if isinstance(v, dict) else "[]" if isinstance(v, list) else _yaml_scalar(v)
                lines.append(f"{pad}{k}: {empty}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                first, *rest = _to_yaml(item, indent + 1).split("\n")
                lines.append(f"{pad}- {first.strip()}")
                lines.extend(r for r in rest if r)
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    return "\n".join(lines) + "\n"
