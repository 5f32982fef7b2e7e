"""``ItemBank``: recorded per-item scores of many models (models x items, NaN = not observed)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError, DatasetError

__all__ = ["ItemBank"]


def _ids(ids: Sequence[Any] | None, n: int, what: str, prefix: str) -> tuple[str, ...]:
    if ids is None:
        return tuple(f"{prefix}{i}" for i in range(n))
    out = tuple(str(x) for x in ids)
    if len(out) != n:
        raise DatasetError(
            f"`{what}` has {len(out)} ids but the score matrix has {n} {what}; give one id per {what[:-1]}"
        )
    seen: set[str] = set()
    dups = [x for x in out if x in seen or seen.add(x)]  # type: ignore[func-returns-value]
    if dups:
        raise DatasetError(f"`{what}` ids must be unique, got duplicates {sorted(set(dups))[:5]}")
    return out


def _matrix(scores: Any) -> np.ndarray:
    if isinstance(scores, np.ndarray):
        rows = scores
    else:
        rows = list(scores)
        if not all(hasattr(r, "__len__") and not isinstance(r, str) for r in rows):
            raise DatasetError("scores must be a 2-d models x items array (a list of rows), got a flat sequence")
        lens = {len(r) for r in rows}
        if len(lens) > 1:
            bad = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
            raise DatasetError(
                f"ragged score rows: row 0 has {len(rows[0])} items but row {bad} has {len(rows[bad])}; "
                "every model needs one entry per item (use NaN for an item it was not asked)"
            )
    try:
        arr = np.array(rows, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"scores must be numbers in [0, 1] (NaN = not observed): {exc}") from None
    if arr.ndim != 2:
        raise DatasetError(f"scores must be a 2-d models x items array, got shape {arr.shape}")
    fin = arr[~np.isnan(arr)]
    if np.isinf(fin).any() or ((fin < 0) | (fin > 1)).any():
        bad = float(fin[np.isinf(fin) | (fin < 0) | (fin > 1)][0])
        i, j = np.argwhere(arr == bad)[0]
        raise DatasetError(
            f"scores must be in [0, 1], got {bad!r} at model row {i}, item column {j}; rescale with the "
            "score's a-priori range first (e.g. divide a 0-10 score by 10)"
        )
    return arr


class ItemBank:
    """Recorded scores of ``models`` (rows) on ``items`` (columns), each in [0, 1]; NaN = not observed.

    Ids are kept as strings (default ``model0..``, ``item0..``). Banks join on ids
    (:meth:`join`), filter (:meth:`filter`), answer as a zero-cost recorded model
    (:meth:`model`) and fit a factor model for estimating a new model (:meth:`fit`).
    """

    def __init__(self, scores: Any, models: Sequence[Any] | None = None, items: Sequence[Any] | None = None) -> None:
        arr = _matrix(scores)
        self.scores = arr
        self.scores.setflags(write=False)
        self.models = _ids(models, arr.shape[0], "models", "model")
        self.items = _ids(items, arr.shape[1], "items", "item")
        self._model_index = {m: i for i, m in enumerate(self.models)}
        self._item_index = {m: i for i, m in enumerate(self.items)}

    # ------------------------------------------------------------------ shape and lookup
    @property
    def shape(self) -> tuple[int, int]:
        return self.scores.shape  # type: ignore[return-value]

    @property
    def n_models(self) -> int:
        return self.scores.shape[0]

    @property
    def n_items(self) -> int:
        return self.scores.shape[1]

    @property
    def observed_fraction(self) -> float:
        return float(np.mean(~np.isnan(self.scores))) if self.scores.size else 0.0

    @property
    def is_binary(self) -> bool:
        fin = self.scores[~np.isnan(self.scores)]
        return bool(np.all((fin == 0) | (fin == 1)))

    def __repr__(self) -> str:
        return f"ItemBank({self.n_models} models x {self.n_items} items, {self.observed_fraction:.0%} observed)"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ItemBank)
            and self.models == other.models
            and self.items == other.items
            and np.array_equal(self.scores, other.scores, equal_nan=True)
        )

    def digest(self) -> str:
        """A short content hash (ids and scores): the bank's identity in a run's recorded configuration."""
        import hashlib

        h = hashlib.sha256()
        h.update("\x1f".join(self.models).encode())
        h.update(b"\x1e" + "\x1f".join(self.items).encode() + b"\x1e")
        h.update(np.ascontiguousarray(self.scores, dtype=np.float64).tobytes())
        return h.hexdigest()[:16]

    def model_index(self, model: str) -> int:
        try:
            return self._model_index[str(model)]
        except KeyError:
            near = [m for m in self.models if str(model).lower() in m.lower()][:5]
            raise DatasetError(
                f"model {model!r} is not in the bank ({self.n_models} models)"
                + (f"; similar ids: {near}" if near else "; list them with bank.models")
            ) from None

    def item_index(self, item: str) -> int:
        try:
            return self._item_index[str(item)]
        except KeyError:
            raise DatasetError(
                f"item {item!r} is not in the bank ({self.n_items} items, e.g. {list(self.items[:3])}); "
                "item ids must match the dataset's problem ids"
            ) from None

    def row(self, model: str) -> np.ndarray:
        """The recorded scores of one model (NaN = not observed)."""
        return self.scores[self.model_index(model)]

    def mean(self, model: str) -> float:
        """The model's mean over the items it was observed on."""
        r = self.row(model)
        return float(np.nanmean(r)) if np.any(~np.isnan(r)) else float("nan")

    def means(self) -> np.ndarray:
        """Every model's mean over its observed items."""
        with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore", RuntimeWarning)
            return np.nanmean(self.scores, axis=1)

    # ------------------------------------------------------------------ combine
    def filter(
        self,
        models: Iterable[str] | Callable[[str], bool] | None = None,
        items: Iterable[str] | Callable[[str], bool] | None = None,
        *,
        min_observed: float = 0.0,
    ) -> ItemBank:
        """A sub-bank: ``models``/``items`` are id lists (order kept as given) or predicates on an id;
        ``min_observed`` drops models observed on fewer than that fraction of the kept items."""

        def pick(sel: Any, ids: tuple[str, ...], lookup: Callable[[str], int]) -> list[int]:
            if sel is None:
                return list(range(len(ids)))
            if callable(sel):
                return [i for i, x in enumerate(ids) if sel(x)]
            if isinstance(sel, str):
                raise ConfigError(f"pass a list of ids, not the string {sel!r}; e.g. [{sel!r}]")
            return [lookup(x) for x in sel]

        mi = pick(models, self.models, self.model_index)
        ii = pick(items, self.items, self.item_index)
        sub = self.scores[np.ix_(mi, ii)]
        if min_observed > 0 and sub.size:
            keep = np.mean(~np.isnan(sub), axis=1) >= min_observed
            mi = [m for m, k in zip(mi, keep) if k]
            sub = sub[keep]
        return ItemBank(sub, [self.models[i] for i in mi], [self.items[i] for i in ii])

    def join(self, other: ItemBank, how: str = "inner") -> ItemBank:
        """Put two banks' items side by side, matching models by id.

        ``how="inner"`` keeps the models both banks have (the leaderboard files joined on ``model``);
        ``"outer"`` keeps every model with NaN where a bank lacks it. An item id in both banks is an error
        unless both record the same scores for the shared models.
        """
        if how not in ("inner", "outer"):
            raise ConfigError(f"`how` must be 'inner' or 'outer', got {how!r}")
        if how == "inner":
            models = [m for m in self.models if m in other._model_index]
        else:
            models = list(self.models) + [m for m in other.models if m not in self._model_index]
        shared = [it for it in other.items if it in self._item_index]
        new_items = [it for it in other.items if it not in self._item_index]
        left = np.full((len(models), self.n_items), np.nan)
        right = np.full((len(models), len(new_items)), np.nan)
        cols = [other.item_index(it) for it in new_items]
        for r, m in enumerate(models):
            if m in self._model_index:
                left[r] = self.scores[self._model_index[m]]
            if m in other._model_index:
                orow = other.scores[other._model_index[m]]
                right[r] = orow[cols]
                for it in shared:
                    a, b = left[r, self._item_index[it]], orow[other._item_index[it]]
                    if np.isnan(a):
                        left[r, self._item_index[it]] = b
                    elif not np.isnan(b) and a != b:
                        raise DatasetError(
                            f"item {it!r} is in both banks with different scores for model {m!r} ({a} vs {b}); "
                            "rename one bank's items or filter the duplicate out before joining"
                        )
        return ItemBank(np.hstack([left, right]), models, list(self.items) + new_items)

    # ------------------------------------------------------------------ uses
    def model(self, name: str) -> Any:
        """A callable recorded model answering from this bank at zero cost (see :class:`RecordedModel`)."""
        from ._recorded import RecordedModel

        return RecordedModel(self, name)

    def fit(self, **kwargs: Any) -> Any:
        """Fit the low-rank logistic factor model (see :func:`bayesbench.history.fit_bank`)."""
        from ._factor import fit_bank

        return fit_bank(self, **kwargs)

    def to_csv(self, path: Any) -> None:
        """Write the bank as ``model,<item ids...>`` rows (gzip when the name ends in .gz); NaN as empty."""
        from ._importers import write_csv

        write_csv(self, path)

    # importers (each in _importers; kept here so they read as ItemBank.from_*)
    @classmethod
    def from_csv(cls, *paths: Any, how: str = "inner") -> ItemBank:
        from ._importers import from_csv

        return from_csv(*paths, how=how)

    @classmethod
    def from_lm_eval(cls, directory: Any, *, metric: str | None = None) -> ItemBank:
        from ._importers import from_lm_eval

        return from_lm_eval(directory, metric=metric)

    @classmethod
    def from_inspect_logs(cls, directory: Any, *, scorer: str | None = None) -> ItemBank:
        from ._importers import from_inspect_logs

        return from_inspect_logs(directory, scorer=scorer)

    @classmethod
    def from_open_llm_leaderboard(cls, paths: Any, *, metric: str | None = None) -> ItemBank:
        from ._importers import from_open_llm_leaderboard

        return from_open_llm_leaderboard(paths, metric=metric)

    @classmethod
    def from_store(cls, store: Any, benchmark: str | None = None) -> ItemBank:
        from ._importers import from_store

        return from_store(store, benchmark=benchmark)
