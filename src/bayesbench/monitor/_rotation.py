"""Benchmark rotation: a seeded holdout and a fresh seeded item sample per scheduled run, and exposure counts.

Each run draws its items independently and uniformly *with replacement* from the rotation pool (the items that
are not held out). That is what the lifetime test needs: given everything before, the next item is a uniform
draw from the pool, so the expected paired difference is the pool mean (docs/monitoring.md). A repeated draw is
asked again as ``<item>#<k>`` (a fresh call, its own cache entry). The holdout is never scheduled: it stays unseen
by the monitor, for a clean final evaluation, and its exposure count shows whether anything else leaked it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

__all__ = ["Rotation", "ExposureReport", "base_item"]

_REPEAT = "#"


def base_item(problem_id: str) -> str:
    """The item behind a draw id: ``"q17#2"`` -> ``"q17"``."""
    return str(problem_id).split(_REPEAT, 1)[0]


class Rotation:
    """Seeded item schedule of a monitor.

    Parameters
    ----------
    item_ids:
        Every item of the task (unique ids).
    items_per_run:
        Draws per scheduled run (with replacement from the pool). Default 50.
    holdout_fraction:
        Share of the items kept out of every scheduled run, in [0, 1). Default 0.2.
    seed:
        Seeds the holdout and every run's draws (run ``slot`` uses ``(seed, slot)``). Default 0.
    """

    def __init__(self, item_ids: Sequence[str], *, items_per_run: int = 50, holdout_fraction: float = 0.2,
                 seed: int = 0) -> None:
        ids = [str(i) for i in item_ids]
        if len(set(ids)) != len(ids):
            raise ConfigError("item ids must be unique; give every problem a distinct 'id'")
        if any(_REPEAT in i for i in ids):
            raise ConfigError(f"item ids must not contain {_REPEAT!r} (it marks a repeated draw)")
        if isinstance(items_per_run, bool) or not isinstance(items_per_run, int) or items_per_run < 1:
            raise ConfigError(f"`items_per_run` must be an integer >= 1, got {items_per_run!r}")
        hf = holdout_fraction
        if isinstance(hf, bool) or not isinstance(hf, (int, float)) or not (0 <= hf < 1):
            raise ConfigError(f"`holdout_fraction` must be in [0, 1), got {hf!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"`seed` must be an integer >= 0, got {seed!r}")
        n_hold = int(round(hf * len(ids)))
        if len(ids) - n_hold < 1:
            raise ConfigError(f"the task has {len(ids)} items and holds out {n_hold}: nothing is left to rotate; "
                              "lower holdout_fraction or add items")
        perm = np.random.default_rng([seed, 0x401D]).permutation(len(ids))
        held = set(perm[:n_hold].tolist())
        self.seed = seed
        self.items_per_run = items_per_run
        self.holdout_fraction = float(hf)
        self.holdout: list[str] = [ids[i] for i in sorted(held)]
        self.pool: list[str] = [ids[i] for i in range(len(ids)) if i not in held]

    def draws(self, slot: int, *, epoch: int = 0) -> list[str]:
        """The draw ids of scheduled run ``slot`` (1, 2, ...) of baseline ``epoch``: pool items drawn uniformly
        with replacement, seeded by ``(seed, epoch, slot)``; a repeat is marked ``#k``."""
        if isinstance(slot, bool) or not isinstance(slot, int) or slot < 1:
            raise ConfigError(f"`slot` must be an integer >= 1, got {slot!r}")
        idx = np.random.default_rng([self.seed, epoch, slot]).integers(0, len(self.pool), size=self.items_per_run)
        seen: dict[str, int] = {}
        out = []
        for i in idx.tolist():
            item = self.pool[i]
            k = seen.get(item, 0)
            seen[item] = k + 1
            out.append(item if k == 0 else f"{item}{_REPEAT}{k}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "items_per_run": self.items_per_run, "holdout_fraction": self.holdout_fraction,
                "pool": len(self.pool), "holdout": len(self.holdout)}


@dataclass(frozen=True)
class ExposureReport:
    """How often each item was shown to a model (runs that scored it, from the store)."""

    model: str
    counts: dict[str, int]
    holdout: tuple[str, ...]
    method: str = "runs in the store that scored the item for the model"

    @classmethod
    def from_store_counts(cls, model: str, raw: Mapping[tuple[str, str], int], item_ids: Sequence[str],
                          holdout: Sequence[str]) -> ExposureReport:
        counts = {str(i): 0 for i in item_ids}
        for (m, pid), c in raw.items():
            if m == model:
                b = base_item(pid)
                counts[b] = counts.get(b, 0) + int(c)
        return cls(model=model, counts=counts, holdout=tuple(holdout))

    @property
    def holdout_exposed(self) -> list[str]:
        """Holdout items some run showed to the model (should be empty)."""
        return [i for i in self.holdout if self.counts.get(i, 0) > 0]

    def to_dict(self) -> dict[str, Any]:
        vals = [c for i, c in self.counts.items() if i not in set(self.holdout)]
        return {"model": self.model, "method": self.method, "n_items": len(self.counts),
                "max": max(vals, default=0), "mean": float(np.mean(vals)) if vals else 0.0,
                "never_shown": sum(1 for v in vals if v == 0), "holdout": len(self.holdout),
                "holdout_exposed": self.holdout_exposed, "counts": dict(self.counts)}

    def summary(self) -> str:
        d = self.to_dict()
        return (f"exposure of {d['n_items']} items to {self.model}: max {d['max']}, mean {d['mean']:.2f} runs, "
                f"{d['never_shown']} rotated items never shown; holdout {d['holdout']} items, "
                f"{len(d['holdout_exposed'])} exposed")
