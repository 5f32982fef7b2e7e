"""Inter-annotator agreement with bootstrap intervals, per-item disagreement, and items flagged for review.

* :func:`cohens_kappa`: two annotators; ``weights="linear"`` / ``"quadratic"`` for ordinal labels
  (agreement weights ``1 - |i-j|/(k-1)`` and ``1 - ((i-j)/(k-1))**2`` over the category ranks).
* :func:`fleiss_kappa`: any number of annotators, the same number of labels per item (Fleiss 1971).
* :func:`krippendorff_alpha`: any number of annotators, missing labels, nominal / ordinal / interval data,
  computed by the ``krippendorff`` package (``pip install "bayesbench[builder]"``).
* :func:`agreement_report`: alpha (and Fleiss' kappa when every item has as many labels, Cohen's kappa for two
  annotators) plus the per-item disagreement list and the items below ``threshold``.

Intervals are percentile bootstraps over items (the unit that was sampled), seeded; replicates on which a
statistic is undefined (e.g. every resampled label equal) are dropped and counted in ``n_boot_valid``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import finite_or_none as _finite
from .._validate import in_open_interval
from ..errors import ConfigError, DatasetError, missing_dependency
from ._annotation_ratings import Ratings, check_level

WEIGHTS = (None, "linear", "quadratic")


@dataclass(frozen=True)
class AgreementResult:
    """One agreement statistic with its percentile-bootstrap interval at ``level``."""

    method: str
    estimate: float
    ci: tuple[float, float]
    level: float
    n_items: int
    n_annotators: int
    n_boot: int
    n_boot_valid: int
    seed: int
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "estimate": _finite(self.estimate),
            "ci": [_finite(self.ci[0]), _finite(self.ci[1])],
            "level": self.level,
            "n": self.n_items,
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
            "n_boot": self.n_boot,
            "n_boot_valid": self.n_boot_valid,
            "seed": self.seed,
            "options": dict(self.options),
        }

    def summary(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items() if v is not None)
        lo, hi = self.ci
        interval = (f"{self.level:.0%} bootstrap CI [{lo:.3f}, {hi:.3f}]" if self.n_boot_valid
                    else "no interval (n_boot=0 or no valid resample)")
        return (
            f"{self.method}{f' ({opts})' if opts else ''}: {self.estimate:.3f}, {interval} | {self.n_items} items, "
            f"{self.n_annotators} annotators, {self.n_boot_valid}/{self.n_boot} valid resamples, seed={self.seed}"
        )


def _check_boot(n_boot: Any, level: Any, seed: Any) -> tuple[int, float, int]:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ConfigError(f"`n_boot` must be an integer >= 0 (0: no interval), got {n_boot!r}")
    in_open_interval("level", level, 0.0, 1.0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be a non-negative integer, got {seed!r}")
    return n_boot, float(level), seed


def _bootstrap(stat: Callable[[np.ndarray], float], n: int, n_boot: int, level: float,
               seed: int) -> tuple[tuple[float, float], int]:
    """Percentile interval of ``stat(rows)`` over ``n_boot`` resamples of ``range(n)`` with replacement."""
    if n_boot == 0:
        return (math.nan, math.nan), 0
    rng = np.random.default_rng(seed)
    reps = np.array([stat(rng.integers(0, n, size=n)) for _ in range(n_boot)], dtype=float)
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return (math.nan, math.nan), 0
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [a, 1.0 - a])
    return (float(lo), float(hi)), int(reps.size)


# ---------------------------------------------------------------------------------------------- Cohen
def agreement_weights(k: int, weights: str | None) -> np.ndarray:
    """The k x k agreement-weight matrix: identity, linear or quadratic in the rank difference."""
    if weights not in WEIGHTS:
        raise ConfigError(f"`weights` must be None, 'linear' or 'quadratic', got {weights!r}")
    if weights is None or k < 2:
        return np.eye(k)
    d = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
    return 1.0 - (d if weights == "linear" else d**2)


def _kappa_from_codes(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    k = w.shape[0]
    table = np.zeros((k, k))
    np.add.at(table, (a, b), 1.0)
    p = table / table.sum()
    expected = np.outer(p.sum(axis=1), p.sum(axis=0))
    po, pe = float((w * p).sum()), float((w * expected).sum())
    return (po - pe) / (1.0 - pe) if pe < 1.0 - 1e-12 else math.nan


def cohens_kappa(
    ratings: Any,
    *,
    annotators: tuple[Any, Any] | None = None,
    weights: str | None = None,
    categories: Sequence[Any] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> AgreementResult:
    """Cohen's kappa of two annotators over the items both labelled.

    ``ratings``: anything :class:`Ratings` reads (records, ``{item: {annotator: label}}``, a matrix). With more
    than two annotators name the two with ``annotators=(a, b)``. ``weights``: None (unweighted, nominal),
    ``"linear"`` or ``"quadratic"`` (ordinal: partial credit by rank distance; the rank order is
    ``categories``, default the sorted labels). ``n_boot`` resamples (0: no interval) at ``level``, ``seed``.
    """
    n_boot, level, seed = _check_boot(n_boot, level, seed)
    r = Ratings.from_any(ratings, categories=categories)
    if annotators is None:
        if r.n_annotators != 2:
            raise ConfigError(
                f"Cohen's kappa compares two annotators; these ratings have {r.n_annotators} "
                f"({list(r.annotators)!r}): pass annotators=(a, b), or use fleiss_kappa / krippendorff_alpha"
            )
        cols = (0, 1)
    else:
        try:
            cols = (r.annotators.index(annotators[0]), r.annotators.index(annotators[1]))
        except ValueError:
            raise ConfigError(f"`annotators` {annotators!r} must name two of {list(r.annotators)!r}") from None
    a, b = r.codes[:, cols[0]], r.codes[:, cols[1]]
    both = (a >= 0) & (b >= 0)
    a, b = a[both], b[both]
    if a.size < 2:
        raise DatasetError(f"Cohen's kappa needs at least 2 items labelled by both annotators, got {a.size}")
    w = agreement_weights(len(r.categories), weights)
    est = _kappa_from_codes(a, b, w)
    ci, valid = _bootstrap(lambda idx: _kappa_from_codes(a[idx], b[idx], w), a.size, n_boot, level, seed)
    method = "cohen_kappa" if weights is None else f"cohen_kappa_{weights}"
    return AgreementResult(method, est, ci, level, int(a.size), 2, n_boot, valid, seed,
                           {"weights": weights, "annotators": [r.annotators[cols[0]], r.annotators[cols[1]]]})


# ---------------------------------------------------------------------------------------------- Fleiss
def _fleiss_from_counts(counts: np.ndarray) -> float:
    n = counts.sum(axis=1)[0]
    N = counts.shape[0]
    p_j = counts.sum(axis=0) / (N * n)
    p_i = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    p_bar, pe = float(p_i.mean()), float((p_j**2).sum())
    return (p_bar - pe) / (1.0 - pe) if pe < 1.0 - 1e-12 else math.nan


def fleiss_kappa(
    ratings: Any,
    *,
    categories: Sequence[Any] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    counts: bool = False,
) -> AgreementResult:
    """Fleiss' kappa: every item carries the same number (>= 2) of labels, from any annotators.

    ``counts=True``: ``ratings`` is already an items x categories count table (Fleiss' own layout).
    For missing labels (items with different numbers of labels) use :func:`krippendorff_alpha`.
    """
    n_boot, level, seed = _check_boot(n_boot, level, seed)
    if counts:
        table = np.asarray(ratings, dtype=np.int64)
        if table.ndim != 2 or (table < 0).any():
            raise DatasetError("with counts=True `ratings` must be an items x categories table of counts >= 0")
        n_ann = int(table.sum(axis=1).max()) if table.size else 0
    else:
        r = Ratings.from_any(ratings, categories=categories)
        table = r.counts()
        n_ann = r.n_annotators
    per_item = table.sum(axis=1)
    if table.shape[0] < 2 or per_item.min() < 2 or per_item.min() != per_item.max():
        raise DatasetError(
            "Fleiss' kappa needs at least 2 items, each with the same number (>= 2) of labels; got "
            f"{sorted(set(per_item.tolist()))} labels per item. Use krippendorff_alpha for missing labels"
        )
    est = _fleiss_from_counts(table)
    ci, valid = _bootstrap(lambda idx: _fleiss_from_counts(table[idx]), table.shape[0], n_boot, level, seed)
    return AgreementResult("fleiss_kappa", est, ci, level, int(table.shape[0]), n_ann, n_boot, valid, seed,
                           {"labels_per_item": int(per_item[0])})


# ---------------------------------------------------------------------------------------------- Krippendorff
def _krippendorff() -> Any:
    try:
        import krippendorff
    except ImportError:
        raise missing_dependency("krippendorff", "builder", "krippendorff_alpha()") from None
    return krippendorff


def _alpha_from_counts(kd: Any, counts: np.ndarray, domain: np.ndarray, level: str) -> float:
    if (counts.sum(axis=1) >= 2).sum() == 0 or (counts.sum(axis=0) > 0).sum() < 2:
        return math.nan  # no pairable values, or one value only: alpha is undefined
    try:
        return float(kd.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level))
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return math.nan


def krippendorff_alpha(
    ratings: Any,
    *,
    level_of_measurement: str = "nominal",
    categories: Sequence[Any] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> AgreementResult:
    """Krippendorff's alpha over all annotators, missing labels allowed (items with < 2 labels add nothing).

    ``level_of_measurement``: ``"nominal"``, ``"ordinal"`` (ranks in ``categories`` order, default the sorted
    labels) or ``"interval"`` (numeric labels). Computed by the ``krippendorff`` package.
    """
    n_boot, level, seed = _check_boot(n_boot, level, seed)
    lvl = check_level(level_of_measurement)
    kd = _krippendorff()
    r = Ratings.from_any(ratings, categories=categories)
    if len(r.categories) < 2:
        raise DatasetError(f"Krippendorff's alpha needs at least two distinct labels, got {list(r.categories)!r}")
    table = r.counts()
    pairable = table.sum(axis=1) >= 2
    if not pairable.any():
        raise DatasetError("Krippendorff's alpha needs at least one item labelled by two or more annotators")
    table = table[pairable]
    domain = r.values(lvl)
    est = _alpha_from_counts(kd, table, domain, lvl)
    with np.errstate(divide="ignore", invalid="ignore"):
        ci, valid = _bootstrap(lambda idx: _alpha_from_counts(kd, table[idx], domain, lvl), table.shape[0],
                               n_boot, level, seed)
    return AgreementResult("krippendorff_alpha", est, ci, level, int(table.shape[0]), r.n_annotators, n_boot, valid,
                           seed, {"level_of_measurement": lvl})


# ---------------------------------------------------------------------------------------------- per item
@dataclass(frozen=True)
class ItemAgreement:
    """How much the annotators of one item agree: 1 = all the same label; 0 = as far apart as the scale allows
    (nominal: share of annotator pairs with the same label; ordinal / interval: 1 - mean pairwise distance
    over the scale's span). ``flagged``: below the report's threshold, so worth a second look."""

    item_id: Any
    labels: dict[Any, Any]
    n_labels: int
    agreement: float | None
    majority: Any
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "labels": dict(self.labels), "n_labels": self.n_labels,
                "agreement": self.agreement, "majority": self.majority, "flagged": self.flagged}


def item_agreement(r: Ratings, level_of_measurement: str = "nominal") -> list[float | None]:
    """Per-item agreement (None for an item with fewer than two labels)."""
    lvl = check_level(level_of_measurement)
    values = r.values(lvl)
    span = float(values.max() - values.min()) if len(values) > 1 else 1.0
    out: list[float | None] = []
    for row in r.codes:
        given = row[row >= 0]
        if given.size < 2:
            out.append(None)
            continue
        x = values[given]
        d = np.abs(np.subtract.outer(x, x))
        if lvl == "nominal":
            d = (d > 0).astype(float)
        else:
            d = d / (span or 1.0)
        pairs = given.size * (given.size - 1)
        out.append(float(1.0 - d.sum() / pairs))
    return out


@dataclass(frozen=True)
class AgreementReport:
    """Agreement over a whole annotation round: the statistics, every item's agreement, what to review."""

    statistics: dict[str, AgreementResult]
    items: list[ItemAgreement]
    threshold: float
    level_of_measurement: str

    @property
    def flagged(self) -> list[Any]:
        """Ids of the items whose agreement is below ``threshold`` (worst first)."""
        rows = [i for i in self.items if i.flagged]
        return [i.item_id for i in sorted(rows, key=lambda i: (i.agreement if i.agreement is not None else 2.0))]

    def disagreements(self) -> list[ItemAgreement]:
        """Items where the annotators did not all agree, least agreement first."""
        rows = [i for i in self.items if i.agreement is not None and i.agreement < 1.0]
        return sorted(rows, key=lambda i: i.agreement)  # type: ignore[arg-type, return-value]

    def to_dict(self) -> dict[str, Any]:
        first = next(iter(self.statistics.values()))
        return {
            "method": "agreement_report",
            "level": first.level,
            "n": len(self.items),
            "seed": first.seed,
            "level_of_measurement": self.level_of_measurement,
            "threshold": self.threshold,
            "statistics": {k: v.to_dict() for k, v in self.statistics.items()},
            "items": [i.to_dict() for i in self.items],
            "flagged": list(self.flagged),
        }

    def summary(self) -> str:
        lines = [f"agreement over {len(self.items)} items ({self.level_of_measurement} labels):"]
        lines += [f"  {s.summary()}" for s in self.statistics.values()]
        n_dis = len(self.disagreements())
        lines.append(f"  {n_dis} items with disagreement; {len(self.flagged)} below agreement {self.threshold:g} "
                     f"flagged for review" + (f": {', '.join(map(str, self.flagged[:10]))}" if self.flagged else ""))
        return "\n".join(lines)


def agreement_report(
    ratings: Any,
    *,
    level_of_measurement: str = "nominal",
    categories: Sequence[Any] | None = None,
    threshold: float = 0.5,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> AgreementReport:
    """Krippendorff's alpha, plus Fleiss' kappa when every item has as many labels and Cohen's kappa (weighted
    quadratic for ordinal/interval) for exactly two annotators; per-item agreement with items below
    ``threshold`` (in [0, 1], default 0.5) flagged for review."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"`threshold` must be in [0, 1], got {threshold!r}")
    lvl = check_level(level_of_measurement)
    r = Ratings.from_any(ratings, categories=categories)
    kw: dict[str, Any] = {"n_boot": n_boot, "level": level, "seed": seed}
    stats = {"krippendorff_alpha": krippendorff_alpha(r, level_of_measurement=lvl, **kw)}
    per_item = r.counts().sum(axis=1)
    if per_item.min() >= 2 and per_item.min() == per_item.max() and r.n_items >= 2:
        stats["fleiss_kappa"] = fleiss_kappa(r, **kw)
    if r.n_annotators == 2 and (r.codes >= 0).all(axis=1).sum() >= 2:
        stats["cohen_kappa"] = cohens_kappa(r, weights=None if lvl == "nominal" else "quadratic", **kw)
    agreements = item_agreement(r, lvl)
    counts = r.counts()
    items = []
    for n, (item, row) in enumerate(zip(r.items, r.codes)):
        ag = agreements[n]
        top = int(np.argmax(counts[n])) if counts[n].any() else -1
        items.append(ItemAgreement(
            item_id=item,
            labels={a: r.categories[c] for a, c in zip(r.annotators, row) if c >= 0},
            n_labels=int((row >= 0).sum()),
            agreement=ag,
            majority=r.categories[top] if top >= 0 else None,
            flagged=ag is not None and ag < threshold,
        ))
    return AgreementReport(stats, items, float(threshold), lvl)
