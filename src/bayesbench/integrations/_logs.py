"""Read the harnesses' own logs (lm-eval ``--log_samples`` output, Inspect ``.eval``/``.json`` logs, a scores
CSV) into one :class:`~bayesbench.history.ItemBank`, and pair models on the items they all scored.

The readers are the history importers (one reader per format); this module only finds which reader a path
needs and lines the models up, so ``compare``/``rank``/``bayesbench replay`` take the logs directly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DatasetError
from ..history import ItemBank

#: What a path can be, in the words of the error a wrong one gets.
ACCEPTED = ("an lm-eval output directory (samples_<task>_*.jsonl beside results_*.json, from --log_samples)",
            "an Inspect log (.eval or .json) or a directory of them", "a scores CSV (model,<item>,...)")


def is_log_path(path: Any) -> bool:
    """True when ``path`` names harness logs rather than a scores CSV (used by ``bayesbench replay``)."""
    p = Path(path)
    if p.is_dir():
        return True
    return p.suffix in (".eval", ".json", ".jsonl")


def _read_one(path: Path, metric: str | None, scorer: str | None) -> ItemBank:
    if not path.exists():
        raise DatasetError(f"{path} does not exist; pass " + ", or ".join(ACCEPTED))
    if path.is_file() and (path.name.endswith(".csv") or path.name.endswith(".csv.gz")):
        return ItemBank.from_csv(path)
    if path.is_file() and path.name.startswith(("samples_", "results_")):
        return ItemBank.from_lm_eval(path.parent, metric=metric)  # one lm-eval run folder
    if path.is_dir() and any(path.rglob("samples_*.jsonl")):
        return ItemBank.from_lm_eval(path, metric=metric)
    if path.suffix in (".eval", ".json") or (path.is_dir() and any(
            p.suffix in (".eval", ".json") for p in path.rglob("*"))):
        return ItemBank.from_inspect_logs(path, scorer=scorer)
    raise DatasetError(f"{path}: not a log bayesbench can read; pass " + ", or ".join(ACCEPTED))


def load_logs(*paths: str | os.PathLike[str], metric: str | None = None, scorer: str | None = None) -> ItemBank:
    """Read one or more harness logs into one bank (models joined by name, items by ``<task>/<id>``).

    ``metric`` picks lm-eval's per-sample field (default: the task's first of ``acc``/``exact_match``...);
    ``scorer`` picks an Inspect scorer (default: the first). The same model in two paths is one model.
    """
    if len(paths) == 1 and isinstance(paths[0], (list, tuple)):
        paths = tuple(paths[0])
    if not paths:
        raise ConfigError("load_logs needs at least one path: " + ", or ".join(ACCEPTED))
    bank = _read_one(Path(paths[0]), metric, scorer)
    for p in paths[1:]:
        bank = bank.join(_read_one(Path(p), metric, scorer), how="outer")
    return bank


def common_scores(bank: ItemBank, models: Sequence[str] | None = None) -> tuple[dict[str, list[float]], list[str]]:
    """The selected models' scores on the items every one of them scored, in the bank's item order, and
    those items' ids. Fails with the models and the overlap when there is nothing to pair."""
    names = list(bank.models) if models is None else list(models)
    if len(names) < 2:
        raise DatasetError(f"the logs hold {len(names)} model(s) ({', '.join(names) or 'none'}); a comparison "
                           "needs two: pass the logs of both models")
    rows = np.vstack([bank.row(m) for m in names])  # bank.row raises a clear error for an unknown model
    both = ~np.isnan(rows).any(axis=0)
    if not both.any():
        counts = ", ".join(f"{m}: {int((~np.isnan(r)).sum())}" for m, r in zip(names, rows))
        raise DatasetError(f"the models share no scored item (items scored: {counts}); are these logs of the "
                           "same task and dataset?")
    items = [it for it, keep in zip(bank.items, both) if keep]
    return {m: [float(v) for v in r[both]] for m, r in zip(names, rows)}, items


def one_model(bank: ItemBank, path: Any) -> str:
    """The single model a path's logs hold (a side of ``compare``)."""
    if bank.n_models != 1:
        raise DatasetError(f"{path} holds the logs of {bank.n_models} models ({', '.join(bank.models)}); "
                           "pass one model's logs per side, or use rank() / `bayesbench replay --models`")
    return bank.models[0]
