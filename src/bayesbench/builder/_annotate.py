"""Annotation projects: who labels what (a chosen overlap, balanced, seeded), and every label saved as it comes.

An :class:`AnnotationProject` is one SQLite file holding the items (with their text), the guidelines, the allowed
labels, the assignment of items to annotators and every submitted label. Each :meth:`~AnnotationProject.submit`
is its own committed transaction (``synchronous=FULL``), so a label the page has acknowledged survives a crash
or a kill of the server. Completed annotations export to JSONL / CSV (one row per label, the layout Label
Studio-style and spreadsheet tools read) and import back, so labelling can also happen elsewhere.

:func:`assign_items` gives every item to exactly ``overlap`` distinct annotators; each item goes to the annotators with
the fewest items so far (ties broken by a seeded shuffle), so loads differ by at most one.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import positive_int
from ..errors import ConfigError, DatasetError
from ._annotation_ratings import Ratings
from ._schema import Guidelines, TestCase

#: The columns of an exported label row (JSONL keys and CSV header).
EXPORT_FIELDS = ("item_id", "annotator", "label", "note", "created_at")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (item_id TEXT PRIMARY KEY, position INTEGER NOT NULL, text TEXT NOT NULL,
                                  payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (annotator TEXT NOT NULL, item_id TEXT NOT NULL, position INTEGER NOT NULL,
                                        PRIMARY KEY (annotator, item_id));
CREATE TABLE IF NOT EXISTS labels (item_id TEXT NOT NULL, annotator TEXT NOT NULL, label TEXT NOT NULL,
                                   note TEXT NOT NULL DEFAULT '', created_at REAL NOT NULL,
                                   PRIMARY KEY (item_id, annotator));
"""


def assign_items(item_ids: Sequence[str], annotators: Sequence[str], *, overlap: int = 2, seed: int = 0) -> dict[str, list[str]]:
    """``{annotator: [item ids in the order to label them]}``: each item to ``overlap`` distinct annotators, loads
    balanced (they differ by at most one), seeded."""
    names = [str(a) for a in annotators]
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"`annotators` must be distinct names (at least one), got {list(annotators)!r}")
    positive_int("overlap", overlap)
    if overlap > len(names):
        raise ConfigError(f"`overlap` must be at most the number of annotators ({len(names)}), got {overlap}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    load = dict.fromkeys(names, 0)
    out: dict[str, list[str]] = {a: [] for a in names}
    for index in rng.permutation(len(item_ids)):
        item = str(item_ids[int(index)])
        order = [names[int(i)] for i in rng.permutation(len(names))]  # seeded tie-break among equal loads
        for a in sorted(order, key=lambda a: load[a])[:overlap]:
            out[a].append(item)
            load[a] += 1
    return out


@dataclass(frozen=True)
class AnnotatorProgress:
    """How far one annotator is: ``done`` of ``assigned`` items."""

    annotator: str
    assigned: int
    done: int

    @property
    def remaining(self) -> int:
        return self.assigned - self.done

    @property
    def fraction(self) -> float:
        return self.done / self.assigned if self.assigned else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"annotator": self.annotator, "assigned": self.assigned, "done": self.done,
                "remaining": self.remaining, "fraction": self.fraction}


def _item_row(item: Any, position: int) -> tuple[str, int, str, str]:
    if isinstance(item, TestCase):
        case = item
    elif isinstance(item, Mapping) and "input" in item:
        case = TestCase.from_dict(item, where=f"item #{position}")
    elif isinstance(item, Mapping) and "id" in item and "text" in item:
        return str(item["id"]), position, str(item["text"]), json.dumps(dict(item), ensure_ascii=False, default=str)
    else:
        raise DatasetError(
            f"annotation item #{position} must be a TestCase, a test-case dict with `input`, or {{'id', 'text'}}; "
            f"got {type(item).__name__}"
        )
    return case.id, position, case.text, json.dumps(case.to_dict(), ensure_ascii=False, default=str)


class AnnotationProject:
    """One annotation round in one SQLite file. Build it with :meth:`create`, reopen it with :meth:`open`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DatasetError(f"no annotation project at {self.path}: create one with AnnotationProject.create(...)")
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # an acknowledged label is on disk
        self._conn.execute("PRAGMA busy_timeout=5000")
        meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        if "labels" not in meta:
            raise DatasetError(f"{self.path} is not a bayesbench annotation project (no project metadata)")
        self.name: str = meta.get("name", "annotation")
        self.labels: list[str] = json.loads(meta["labels"])
        self.annotators: list[str] = json.loads(meta["annotators"])
        self.overlap: int = int(meta["overlap"])
        self.seed: int = int(meta["seed"])
        g = json.loads(meta.get("guidelines", "null"))
        self.guidelines: Guidelines | None = Guidelines.from_dict(g) if g else None

    # ------------------------------------------------------------------ building
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        items: Iterable[Any],
        *,
        annotators: Sequence[str],
        overlap: int = 2,
        labels: Sequence[str] | None = None,
        guidelines: Guidelines | None = None,
        seed: int = 0,
        name: str = "annotation",
    ) -> AnnotationProject:
        """A new project file: ``items`` (TestCases, a BuilderDataset, test-case dicts or ``{"id", "text"}``), each
        labelled by ``overlap`` of ``annotators``. ``labels``: the allowed labels (default: the guidelines'
        rubric labels, in order). Refuses to overwrite an existing file."""
        p = Path(path)
        if p.exists():
            raise ConfigError(f"{p} already exists: open it with AnnotationProject.open({str(p)!r}) or choose a new path")
        if guidelines is None:
            guidelines = getattr(items, "guidelines", None)
        if labels is None:
            labels = list(getattr(guidelines, "rubric", {}) or [])
        labels = [str(x) for x in labels]
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise ConfigError(
                f"`labels` must be at least two distinct labels (or guidelines with a rubric), got {labels!r}"
            )
        rows = [_item_row(item, n) for n, item in enumerate(items)]
        if not rows:
            raise DatasetError("no items to annotate")
        ids = [r[0] for r in rows]
        if len(set(ids)) != len(ids):
            raise DatasetError("annotation items must have distinct ids")
        plan = assign_items(ids, annotators, overlap=overlap, seed=seed)
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(p)
        try:
            with conn:
                conn.executescript(_SCHEMA)
                meta = {"name": name, "labels": json.dumps(labels), "annotators": json.dumps(list(plan)),
                        "overlap": str(overlap), "seed": str(seed),
                        "guidelines": json.dumps(guidelines.to_dict() if guidelines is not None else None),
                        "created_at": str(time.time())}
                conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
                conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", rows)
                conn.executemany("INSERT INTO assignments VALUES (?, ?, ?)",
                                 [(a, item, k) for a, its in plan.items() for k, item in enumerate(its)])
        finally:
            conn.close()
        return cls(p)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> AnnotationProject:
        return cls(path)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AnnotationProject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Any:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ reading
    def item(self, item_id: str) -> dict[str, Any]:
        """``{"id", "text", "case"}`` of one item (``case``: the stored test case dict)."""
        rows = self._query("SELECT item_id, text, payload FROM items WHERE item_id = ?", (str(item_id),))
        if not rows:
            raise DatasetError(f"no item {item_id!r} in this annotation project")
        return {"id": rows[0][0], "text": rows[0][1], "case": json.loads(rows[0][2])}

    def item_ids(self) -> list[str]:
        return [r[0] for r in self._query("SELECT item_id FROM items ORDER BY position")]

    def assignment(self, annotator: str) -> list[str]:
        self._check_annotator(annotator)
        return [r[0] for r in self._query(
            "SELECT item_id FROM assignments WHERE annotator = ? ORDER BY position", (annotator,))]

    def next_item(self, annotator: str) -> str | None:
        """The annotator's first assigned item without a label yet, or None when they are done."""
        self._check_annotator(annotator)
        rows = self._query(
            "SELECT a.item_id FROM assignments a LEFT JOIN labels l ON l.item_id = a.item_id AND l.annotator = a.annotator "
            "WHERE a.annotator = ? AND l.label IS NULL ORDER BY a.position LIMIT 1", (annotator,))
        return rows[0][0] if rows else None

    def progress(self) -> list[AnnotatorProgress]:
        """Per annotator: assigned items and how many of them carry a label."""
        rows = self._query(
            "SELECT a.annotator, COUNT(*), COUNT(l.label) FROM assignments a LEFT JOIN labels l "
            "ON l.item_id = a.item_id AND l.annotator = a.annotator GROUP BY a.annotator")
        counts = {r[0]: (r[1], r[2]) for r in rows}
        return [AnnotatorProgress(a, *counts.get(a, (0, 0))) for a in self.annotators]

    def records(self) -> list[dict[str, Any]]:
        """Every label as ``{"item_id", "annotator", "label", "note", "created_at"}``, in submission order."""
        rows = self._query("SELECT item_id, annotator, label, note, created_at FROM labels ORDER BY created_at, rowid")
        return [dict(zip(EXPORT_FIELDS, r)) for r in rows]

    def ratings(self) -> Ratings:
        """The labels as :class:`Ratings` (categories in the project's label order) for agreement statistics."""
        return Ratings.from_records(self.records(), categories=self.labels)

    def agreement(self, **options: Any) -> Any:
        """:func:`~bayesbench.builder.agreement_report` of the labels so far (scale from the guidelines)."""
        from ._agreement import agreement_report

        if "level_of_measurement" not in options and self.guidelines is not None:
            options["level_of_measurement"] = self.guidelines.scale
        return agreement_report(self.ratings(), **options)

    # ------------------------------------------------------------------ writing
    def _check_annotator(self, annotator: str) -> None:
        if annotator not in self.annotators:
            raise ConfigError(f"unknown annotator {annotator!r}; this project's annotators are {self.annotators!r}")

    def submit(self, annotator: str, item_id: str, label: str, *, note: str = "") -> dict[str, Any]:
        """Save one label now (committed before this returns). Re-submitting replaces the annotator's label."""
        self._check_annotator(annotator)
        label, note = str(label), str(note or "")
        if label not in self.labels:
            raise ConfigError(f"`label` must be one of {self.labels!r}, got {label!r}")
        with self._tx() as conn:
            assigned = conn.execute("SELECT 1 FROM assignments WHERE annotator = ? AND item_id = ?",
                                    (annotator, str(item_id))).fetchone()
            if assigned is None:
                raise ConfigError(f"item {item_id!r} is not assigned to {annotator!r}")
            created = time.time()
            conn.execute("INSERT INTO labels VALUES (?, ?, ?, ?, ?) ON CONFLICT (item_id, annotator) DO UPDATE SET "
                         "label = excluded.label, note = excluded.note, created_at = excluded.created_at",
                         (str(item_id), annotator, label, note, created))
        return {"item_id": str(item_id), "annotator": annotator, "label": label, "note": note, "created_at": created}

    # ------------------------------------------------------------------ exchange
    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write every label to ``path``: ``.jsonl`` (one JSON object a line) or ``.csv`` (header row)."""
        p = Path(path)
        rows = self.records()
        if p.suffix == ".jsonl":
            with open(p, "w", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
        elif p.suffix == ".csv":
            with open(p, "w", encoding="utf-8", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(EXPORT_FIELDS))
                w.writeheader()
                w.writerows(rows)
        else:
            raise ConfigError(f"export path must end in .jsonl or .csv, got {str(p)!r}")
        return p

    def import_labels(self, path: str | os.PathLike[str]) -> int:
        """Read labels made elsewhere (``.jsonl`` or ``.csv`` with ``item_id``, ``annotator``, ``label`` and
        optionally ``note``); every row is checked first, then all are saved in one transaction. Returns the count."""
        p = Path(path)
        if p.suffix == ".jsonl":
            rows = []
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError as exc:
                        raise DatasetError(f"{p}:{n}: not JSON ({exc})") from None
        elif p.suffix == ".csv":
            with open(p, encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f))
        else:
            raise ConfigError(f"import path must end in .jsonl or .csv, got {str(p)!r}")
        assigned = set(self._query("SELECT annotator, item_id FROM assignments"))
        clean = []
        for n, r in enumerate(rows, 1):
            where = f"{p.name} row {n}"
            if not isinstance(r, Mapping) or any(not r.get(k) and r.get(k) != 0 for k in ("item_id", "annotator", "label")):
                raise DatasetError(f"{where}: needs item_id, annotator and label, got {r!r}")
            a, item, label = str(r["annotator"]), str(r["item_id"]), str(r["label"])
            if a not in self.annotators:
                raise DatasetError(f"{where}: unknown annotator {a!r} (project annotators: {self.annotators!r})")
            if (a, item) not in assigned:
                raise DatasetError(f"{where}: item {item!r} is not assigned to {a!r}")
            if label not in self.labels:
                raise DatasetError(f"{where}: label {label!r} is not one of {self.labels!r}")
            created = float(r.get("created_at") or time.time())
            clean.append((item, a, label, str(r.get("note") or ""), created))
        with self._tx() as conn:
            conn.executemany("INSERT INTO labels VALUES (?, ?, ?, ?, ?) ON CONFLICT (item_id, annotator) DO UPDATE SET "
                             "label = excluded.label, note = excluded.note, created_at = excluded.created_at", clean)
        return len(clean)

    def summary(self) -> str:
        lines = [f"annotation project {self.name!r} ({self.path}): {len(self.item_ids())} items, "
                 f"{len(self.annotators)} annotators, overlap {self.overlap}, seed={self.seed}"]
        for p in self.progress():
            lines.append(f"  {p.annotator}: {p.done}/{p.assigned} done ({p.fraction:.0%})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "labels": list(self.labels),
                "annotators": list(self.annotators), "overlap": self.overlap, "seed": self.seed,
                "n": len(self.item_ids()), "guidelines": self.guidelines.to_dict() if self.guidelines else None,
                "progress": [p.to_dict() for p in self.progress()]}
