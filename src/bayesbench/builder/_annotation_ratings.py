"""Annotation labels as one table: items x annotators, missing labels allowed, categories in a fixed order.

Every agreement statistic and consensus method reads a :class:`Ratings`. It is built from whatever form the
labels come in: annotation records (``{"item_id", "annotator", "label"}``, what the annotation store exports),
a mapping ``{item_id: {annotator: label}}``, or a matrix with one row per item and one column per annotator
(``None`` or NaN where an annotator gave no label).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, DatasetError

#: How far apart two labels are: nominal (same or not), ordinal (rank order), interval (numeric difference).
LEVELS = ("nominal", "ordinal", "interval")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sort_key(value: Any) -> tuple[int, Any]:
    # numbers first in numeric order, then everything else by its text: a stable order for any label set
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


@dataclass(frozen=True)
class Ratings:
    """Labels of ``items`` by ``annotators``; ``codes[i, j]`` is the index into ``categories`` of annotator j's
    label for item i, or -1 where it is missing."""

    items: tuple[Any, ...]
    annotators: tuple[Any, ...]
    categories: tuple[Any, ...]
    codes: np.ndarray

    # ------------------------------------------------------------------ building
    @classmethod
    def from_any(cls, data: Any, *, categories: Sequence[Any] | None = None) -> Ratings:
        """Records, a ``{item: {annotator: label}}`` mapping, a matrix (rows items), or a Ratings."""
        if isinstance(data, Ratings):
            return data if categories is None else cls.from_mapping(data.to_mapping(), categories=categories)
        if isinstance(data, Mapping):
            return cls.from_mapping(data, categories=categories)
        if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a DataFrame: rows items, columns annotators
            return cls.from_matrix(data.to_numpy(dtype=object).tolist(), annotators=list(data.columns),
                                   items=list(data.index), categories=categories)
        rows = list(data) if data is not None else []
        if rows and all(isinstance(r, Mapping) for r in rows):
            return cls.from_records(rows, categories=categories)
        return cls.from_matrix(rows, categories=categories)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, categories: Sequence[Any] | None = None,
                     item_key: str = "item_id", annotator_key: str = "annotator", label_key: str = "label") -> Ratings:
        """One record per label. A later record of the same (item, annotator) replaces an earlier one."""
        table: dict[Any, dict[Any, Any]] = {}
        for n, rec in enumerate(records):
            missing = [k for k in (item_key, annotator_key, label_key) if k not in rec]
            if missing:
                raise DatasetError(
                    f"annotation record #{n} has no {', '.join(repr(k) for k in missing)}: every record needs "
                    f"{item_key!r}, {annotator_key!r} and {label_key!r}, got keys {sorted(rec)}"
                )
            table.setdefault(rec[item_key], {})[rec[annotator_key]] = rec[label_key]
        return cls.from_mapping(table, categories=categories)

    @classmethod
    def from_mapping(cls, table: Mapping[Any, Mapping[Any, Any]], *, categories: Sequence[Any] | None = None) -> Ratings:
        items = tuple(table)
        annotators: dict[Any, None] = {}
        for labels in table.values():
            if not isinstance(labels, Mapping):
                raise DatasetError(
                    f"a ratings mapping must be {{item_id: {{annotator: label}}}}, got a {type(labels).__name__} "
                    "as the value of an item"
                )
            for a in labels:
                annotators.setdefault(a, None)
        names = tuple(annotators)
        matrix = [[table[i].get(a) for a in names] for i in items]
        return cls.from_matrix(matrix, annotators=names, items=items, categories=categories)

    @classmethod
    def from_matrix(cls, matrix: Sequence[Sequence[Any]], *, annotators: Sequence[Any] | None = None,
                    items: Sequence[Any] | None = None, categories: Sequence[Any] | None = None) -> Ratings:
        rows = [list(r) for r in matrix]
        if not rows:
            raise DatasetError("no ratings: pass at least one item with labels from at least two annotators")
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise DatasetError("every row of a ratings matrix must have one entry per annotator (None where missing)")
        names = tuple(annotators) if annotators is not None else tuple(range(width))
        ids = tuple(items) if items is not None else tuple(range(len(rows)))
        if len(names) != width or len(ids) != len(rows):
            raise DatasetError(f"{len(names)} annotator names / {len(ids)} item ids for a {len(rows)}x{width} matrix")
        seen = {v for r in rows for v in r if not _missing(v)}
        if categories is None:
            cats = tuple(sorted(seen, key=_sort_key))
        else:
            cats = tuple(categories)
            if len(set(cats)) != len(cats):
                raise ConfigError(f"`categories` must not repeat a label, got {list(cats)!r}")
            unknown = seen - set(cats)
            if unknown:
                raise DatasetError(
                    f"labels {sorted(unknown, key=_sort_key)!r} are not in `categories` {list(cats)!r}: add them or "
                    "fix the labels"
                )
        index = {c: k for k, c in enumerate(cats)}
        codes = np.array([[-1 if _missing(v) else index[v] for v in r] for r in rows], dtype=np.int64)
        return cls(items=ids, annotators=names, categories=cats, codes=codes.reshape(len(rows), width))

    # ------------------------------------------------------------------ views
    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_annotators(self) -> int:
        return len(self.annotators)

    def to_mapping(self) -> dict[Any, dict[Any, Any]]:
        return {
            item: {a: self.categories[c] for a, c in zip(self.annotators, row) if c >= 0}
            for item, row in zip(self.items, self.codes)
        }

    def counts(self) -> np.ndarray:
        """``counts[i, k]``: how many annotators gave item i category k."""
        out = np.zeros((self.n_items, len(self.categories)), dtype=np.int64)
        for k in range(len(self.categories)):
            out[:, k] = (self.codes == k).sum(axis=1)
        return out

    def values(self, level: str) -> np.ndarray:
        """The position of each category on the scale ``level`` measures: interval needs numeric labels."""
        if level == "interval":
            try:
                return np.array([float(c) for c in self.categories], dtype=float)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"level 'interval' needs numeric labels, got categories {list(self.categories)!r}; use "
                    "'ordinal' with an ordered `categories` list for ranked text labels"
                ) from None
        return np.arange(len(self.categories), dtype=float)


def check_level(level: Any) -> str:
    if level not in LEVELS:
        raise ConfigError(f"`level_of_measurement` must be one of {', '.join(map(repr, LEVELS))}, got {level!r}")
    return str(level)
