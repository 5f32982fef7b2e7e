"""Importers: the upstream formats people already have, turned into an :class:`ItemBank`.

Every importer keeps the upstream ids: models by their name, items as ``<task>/<doc id>`` (lm-eval,
Open LLM Leaderboard details, Inspect) or as recorded (CSV columns, store problem ids).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DatasetError, missing_dependency
from ._bank import ItemBank

__all__ = [
    "from_csv",
    "from_inspect_logs",
    "from_lm_eval",
    "from_open_llm_leaderboard",
    "from_records",
    "from_store",
    "write_csv",
]


def from_records(records: Iterable[tuple[str, str, float]], source: str) -> ItemBank:
    """Build a bank from (model, item, score) triples; a repeated (model, item) is averaged (epochs, samples)."""
    acc: dict[tuple[str, str], list[float]] = {}
    models: dict[str, None] = {}
    items: dict[str, None] = {}
    for m, it, s in records:
        models.setdefault(m)
        items.setdefault(it)
        acc.setdefault((m, it), []).append(s)
    if not acc:
        raise DatasetError(f"{source}: no scores found")
    mi = {m: i for i, m in enumerate(models)}
    ii = {it: j for j, it in enumerate(items)}
    arr = np.full((len(mi), len(ii)), np.nan)
    for (m, it), vals in acc.items():
        arr[mi[m], ii[it]] = float(np.mean(vals))
    try:
        return ItemBank(arr, list(models), list(items))
    except DatasetError as exc:
        raise DatasetError(f"{source}: {exc}") from None


def _open_text(path: Path) -> io.TextIOBase:
    return gzip.open(path, "rt", newline="") if str(path).endswith(".gz") else open(path, newline="")  # type: ignore[return-value]


def _read_one_csv(path: Path) -> ItemBank:
    if not path.exists():
        raise DatasetError(f"no such file: {path}")
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DatasetError(f"{path} is empty; expected a header `model,<item ids...>`") from None
        if len(header) < 2:
            raise DatasetError(f"{path}: the header must be `model,<item id>,...`, got {header!r}")
        models, rows = [], []
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise DatasetError(
                    f"{path} line {line_no}: {len(row)} fields but the header has {len(header)} "
                    "(ragged row); every model needs one value per item column (empty = not observed)"
                )
            models.append(row[0])
            try:
                rows.append([float(v) if v.strip() not in ("", "nan", "NaN", "NA") else math.nan for v in row[1:]])
            except ValueError as exc:
                raise DatasetError(f"{path} line {line_no}: {exc}; scores must be numbers in [0, 1]") from None
    try:
        return ItemBank(np.array(rows, dtype=float).reshape(len(rows), len(header) - 1), models, header[1:])
    except DatasetError as exc:
        raise DatasetError(f"{path}: {exc}") from None


def from_csv(*paths: Any, how: str = "inner") -> ItemBank:
    """Read CSVs (optionally gzipped) laid out as ``model,<item id>,...``, one row per model (the layout of
    the Open LLM Leaderboard v1 files); several files are joined on the model id (``how="inner"`` keeps
    the models every file has)."""
    if not paths:
        raise ConfigError("from_csv needs at least one path")
    if len(paths) == 1 and isinstance(paths[0], (list, tuple)):
        paths = tuple(paths[0])
    bank = _read_one_csv(Path(paths[0]))
    for p in paths[1:]:
        bank = bank.join(_read_one_csv(Path(p)), how=how)
    return bank


def write_csv(bank: ItemBank, path: Any) -> None:
    path = Path(path)
    opener = gzip.open(path, "wt", newline="") if path.name.endswith(".gz") else open(path, "w", newline="")  # noqa: SIM115
    with opener as fh:
        w = csv.writer(fh)
        w.writerow(["model", *bank.items])
        for m, row in zip(bank.models, bank.scores):
            w.writerow([m, *("" if np.isnan(v) else repr(float(v)) for v in row)])


# ---------------------------------------------------------------------------------------------- lm-eval
def _lm_eval_model(results_path: Path) -> str | None:
    with open(results_path) as fh:
        res = json.load(fh)
    name = res.get("model_name")
    if name:
        return str(name)
    cfg = res.get("config") or {}
    args = cfg.get("model_args") or ""
    if isinstance(args, dict):
        return str(args.get("pretrained") or args.get("model") or cfg.get("model"))
    m = re.search(r"(?:pretrained|model)=([^,]+)", str(args))
    return m.group(1) if m else (str(cfg["model"]) if cfg.get("model") else None)


def _sample_score(rec: dict[str, Any], metric: str | None, where: str) -> float:
    names = (
        [metric]
        if metric
        else [m for m in rec.get("metrics", []) if m in rec]
        or [m for m in ("acc", "exact_match", "acc_norm") if m in rec]
    )
    if not names or names[0] not in rec:
        raise DatasetError(
            f"{where}: no metric {metric or 'acc/exact_match'} in the sample (keys: {sorted(rec)[:12]}); "
            "pass metric='...'"
        )
    v = rec[names[0]]
    if isinstance(v, list) and v:  # some tasks log [score, ...]
        v = v[0]
    if isinstance(v, bool):
        v = float(v)
    if not isinstance(v, (int, float)):
        raise DatasetError(f"{where}: metric {names[0]!r} is {v!r}, not a number")
    return float(v)


def from_lm_eval(directory: Any, *, metric: str | None = None) -> ItemBank:
    """Read ``lm_eval --log_samples`` output: under ``directory`` (searched recursively), each folder's
    ``results_*.json`` names the model (``model_name``, else ``pretrained=`` in ``config.model_args``)
    and its ``samples_<task>_*.jsonl`` hold one JSON line per document (``doc_id`` and the per-sample
    metrics, e.g. ``acc`` or ``exact_match``; ``metric=`` picks one). Items are ``<task>/<doc_id>``.
    A document logged under several filters counts once, with the first filter in the file."""
    root = Path(directory)
    if not root.is_dir():
        raise DatasetError(
            f"{root} is not a directory of lm-eval results (run lm_eval with --output_path and --log_samples)"
        )
    records: list[tuple[str, str, float]] = []
    sample_files = sorted(root.rglob("samples_*.jsonl"))
    if not sample_files:
        raise DatasetError(f"{root}: no samples_<task>_*.jsonl files; run lm_eval with --log_samples")
    for sf in sample_files:
        results = sorted(sf.parent.glob("results_*.json"))
        model = _lm_eval_model(results[-1]) if results else None
        if not model:
            raise DatasetError(f"{sf}: no results_*.json next to it naming the model")
        m = re.match(r"samples_(.+)_\d{4}-\d{2}-\d{2}T[\d\-.]+\.jsonl$", sf.name) or re.match(
            r"samples_(.+)\.jsonl$", sf.name
        )
        task = m.group(1) if m else sf.stem
        first_filter: str | None = None
        with open(sf) as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                rec = json.loads(line)
                filt = rec.get("filter")
                if first_filter is None:
                    first_filter = filt
                if filt != first_filter:
                    continue
                if "doc_id" not in rec:
                    raise DatasetError(f"{sf} line {n}: no doc_id; is this an lm-eval --log_samples file?")
                records.append((model, f"{task}/{rec['doc_id']}", _sample_score(rec, metric, f"{sf} line {n}")))
    return from_records(records, str(root))


# ---------------------------------------------------------------------------------------------- Inspect
_INSPECT_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


def _inspect_value(value: Any, where: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in _INSPECT_LETTERS:
        return _INSPECT_LETTERS[value]
    raise DatasetError(f"{where}: score value {value!r} is not a number or C/I/P/N; pass scorer= for a numeric scorer")


def from_inspect_logs(directory: Any, *, scorer: str | None = None) -> ItemBank:
    """Read Inspect AI eval logs (``.eval`` or ``.json``) via ``inspect_ai.log.read_eval_log``: the model is
    ``log.eval.model``, items are ``<task>/<sample id>``, the score is ``sample.scores[scorer]`` (the first
    scorer by default; C/I/P/N map to 1/0/0.5/0); several epochs of a sample are averaged."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise missing_dependency("inspect-ai", "inspect", "ItemBank.from_inspect_logs") from None
    root = Path(directory)
    files = sorted([p for p in root.rglob("*") if p.suffix in (".eval", ".json")]) if root.is_dir() else [root]
    if not files:
        raise DatasetError(f"{root}: no Inspect logs (*.eval, *.json)")
    records: list[tuple[str, str, float]] = []
    for f in files:
        log = read_eval_log(str(f))
        model, task = str(log.eval.model), str(log.eval.task)
        for s in log.samples or []:
            if not s.scores:
                continue
            name = scorer or next(iter(s.scores))
            if name not in s.scores:
                raise DatasetError(f"{f}: sample {s.id} has no scorer {name!r} (has {sorted(s.scores)})")
            records.append((model, f"{task}/{s.id}", _inspect_value(s.scores[name].value, f"{f} sample {s.id}")))
    return from_records(records, str(root))


# ------------------------------------------------------------------------------ Open LLM Leaderboard details
def _details_model(path: Path) -> str:
    for part in reversed(path.parts[:-1]):
        m = re.match(r"details_(.+?)__(.+)$", part)
        if m:
            return f"{m.group(1)}/{m.group(2)}"
    return path.parent.name


def _details_task(path: Path) -> str:
    name = path.name
    m = re.match(r"details_(?:harness\|)?(.+?)\|\d+_.*", name)  # v1: details_harness|arc:challenge|25_<ts>.parquet
    if m:
        return m.group(1)
    m = re.match(r"samples_(.+?)_\d{4}-\d{2}-\d{2}T.*", name)  # v2: samples_leaderboard_bbh_..._<ts>.jsonl
    if m:
        return m.group(1)
    return path.stem.split(".")[0]


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise missing_dependency("pyarrow", "huggingface", "ItemBank.from_open_llm_leaderboard (parquet)") from None
        return pq.read_table(path).to_pylist()
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def from_open_llm_leaderboard(paths: Any, *, metric: str | None = None) -> ItemBank:
    """Read Open LLM Leaderboard per-sample "details" files (parquet or jsonl), as downloaded from the
    ``open-llm-leaderboard/details_<org>__<model>`` datasets. The model comes from that folder name (else the
    parent folder), the task from the file name (``details_harness|<task>|<shots>_<time>.parquet`` in v1,
    ``samples_<task>_<time>.jsonl`` in v2). A row's score is ``metric`` (default ``acc``, else
    ``exact_match``/``acc_norm``), flat or inside a ``metrics`` dict; the item is ``<task>/<doc_id>`` (the row
    number when the file has no ``doc_id``). ``paths``: files or folders (searched for *.parquet, *.jsonl)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted([q for q in p.rglob("*") if q.suffix in (".parquet", ".jsonl")])
        elif p.exists():
            files.append(p)
        else:
            raise DatasetError(f"no such file or folder: {p}")
    if not files:
        raise DatasetError(f"no details files (*.parquet, *.jsonl) in {list(map(str, paths))}")
    records: list[tuple[str, str, float]] = []
    for f in files:
        model, task = _details_model(f), _details_task(f)
        for n, row in enumerate(_rows(f)):
            flat = dict(row)
            if isinstance(row.get("metrics"), dict):
                flat.update(row["metrics"])
                flat["metrics"] = list(row["metrics"])
            elif "metrics" in flat and not isinstance(flat["metrics"], list):
                flat.pop("metrics")
            doc = row.get("doc_id", n)
            records.append((model, f"{task}/{doc}", _sample_score(flat, metric, f"{f} row {n}")))
    return from_records(records, ", ".join(map(str, paths)))


# ---------------------------------------------------------------------------------------------- store
def from_store(store: Any, benchmark: str | None = None) -> ItemBank:
    """Every per-problem score a :class:`bayesbench.store.Store` (or a SQLite path) holds.

    ``benchmark``: keep only runs with that name (the task / suite name the run was recorded under); items
    are then the problem ids. Without it every run is read and items are ``<run name>/<problem id>``.
    Scores are rescaled to [0, 1] with each run's recorded ``score_range``; a model that answered the same
    item in several runs gets the mean.
    """
    from ..store import Store

    own = not hasattr(store, "runs")
    st = Store(store) if own else store
    try:
        records: list[tuple[str, str, float]] = []
        runs = [r for r in st.runs() if benchmark is None or r["name"] == benchmark]
        if not runs:
            names = sorted({r["name"] for r in st.runs()})
            raise DatasetError(
                f"the store has no runs named {benchmark!r}; its runs are named {names}"
                if benchmark
                else "the store has no runs"
            )
        for r in runs:
            lo, hi = (r.get("config") or {}).get("score_range", [0.0, 1.0])
            for row in st.scores(r["id"]):
                item = row["problem_id"] if benchmark else f"{r['name']}/{row['problem_id']}"
                records.append((row["model"], item, (float(row["score"]) - lo) / (hi - lo)))
        return from_records(records, f"store {st!r}")
    finally:
        if own:
            st.close()
