"""One label per item from several annotators: majority vote, or Dawid–Skene (EM over per-annotator confusion).

Dawid & Skene (1979): each annotator j has a confusion matrix ``pi_j[k, l] = P(j says l | true class k)``; the
true classes have priors ``p_k``. EM alternates the item posteriors ``P(true = k | labels)`` (E) and the
priors and confusions they imply (M), starting from the vote shares (or from a seeded random start), with
additive ``smoothing`` so that an annotator who never used a label does not get probability 0 for it. Items
whose consensus confidence (vote share, or posterior probability) is below ``threshold`` are flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import positive_int
from ..errors import ConfigError, DatasetError
from ._annotation_ratings import Ratings

TIE_BREAKS = ("first", "random")
INITS = ("majority", "random")


@dataclass(frozen=True)
class ConsensusResult:
    """The consensus label of every item, how sure it is, and (Dawid–Skene) what each annotator is like.

    ``labels[item]`` is None for an item nobody labelled. ``confidence[item]``: the winning vote share
    (majority) or posterior probability (Dawid–Skene). ``posteriors[item][label]``: the full distribution.
    ``annotator_confusion[a][true][given]`` and ``annotator_accuracy[a]`` only for Dawid–Skene.
    """

    method: str
    labels: dict[Any, Any]
    confidence: dict[Any, float | None]
    posteriors: dict[Any, dict[Any, float]]
    categories: tuple[Any, ...]
    threshold: float
    seed: int
    n_annotators: int
    iterations: int = 0
    converged: bool = True
    log_likelihood: float | None = None
    class_priors: dict[Any, float] = field(default_factory=dict)
    annotator_confusion: dict[Any, dict[Any, dict[Any, float]]] = field(default_factory=dict)
    annotator_accuracy: dict[Any, float] = field(default_factory=dict)
    ties: list[Any] = field(default_factory=list)

    @property
    def n_items(self) -> int:
        return len(self.labels)

    @property
    def flagged(self) -> list[Any]:
        """Items whose consensus confidence is below ``threshold`` (or that nobody labelled), least sure first."""
        rows = [(c if c is not None else -1.0, i) for i, c in self.confidence.items() if c is None or c < self.threshold]
        return [i for _, i in sorted(rows, key=lambda t: t[0])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "level": self.threshold,
            "threshold": self.threshold,
            "n": self.n_items,
            "n_annotators": self.n_annotators,
            "seed": self.seed,
            "categories": list(self.categories),
            "labels": dict(self.labels),
            "confidence": dict(self.confidence),
            "posteriors": {i: dict(p) for i, p in self.posteriors.items()},
            "iterations": self.iterations,
            "converged": self.converged,
            "log_likelihood": self.log_likelihood,
            "class_priors": dict(self.class_priors),
            "annotator_confusion": self.annotator_confusion,
            "annotator_accuracy": dict(self.annotator_accuracy),
            "ties": list(self.ties),
            "flagged": self.flagged,
        }

    def summary(self) -> str:
        conf = [c for c in self.confidence.values() if c is not None]
        mean = sum(conf) / len(conf) if conf else math.nan
        head = (f"{self.method}: {self.n_items} items, {self.n_annotators} annotators, mean confidence {mean:.3f}; "
                f"{len(self.flagged)} below {self.threshold:g} flagged for review; seed={self.seed}")
        if self.method == "dawid_skene":
            head += f"; {self.iterations} EM iterations ({'converged' if self.converged else 'NOT converged'})"
            accs = ", ".join(f"{a}={v:.2f}" for a, v in self.annotator_accuracy.items())
            head += f"\n  estimated annotator accuracy: {accs}"
        elif self.ties:
            head += f"; {len(self.ties)} ties broken"
        return head


def _check_common(threshold: Any, seed: Any) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"`threshold` must be in [0, 1], got {threshold!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"`seed` must be a non-negative integer, got {seed!r}")


def majority_vote(
    ratings: Any,
    *,
    categories: Sequence[Any] | None = None,
    tie_break: str = "first",
    threshold: float = 0.5,
    seed: int = 0,
) -> ConsensusResult:
    """The most frequent label of each item; confidence is its vote share.

    ``tie_break``: ``"first"`` (the earliest tied label in ``categories`` order) or ``"random"`` (seeded).
    """
    _check_common(threshold, seed)
    if tie_break not in TIE_BREAKS:
        raise ConfigError(f"`tie_break` must be one of {', '.join(map(repr, TIE_BREAKS))}, got {tie_break!r}")
    r = Ratings.from_any(ratings, categories=categories)
    counts = r.counts()
    rng = np.random.default_rng(seed)
    labels: dict[Any, Any] = {}
    confidence: dict[Any, float | None] = {}
    posteriors: dict[Any, dict[Any, float]] = {}
    ties: list[Any] = []
    for item, row in zip(r.items, counts):
        total = int(row.sum())
        if total == 0:
            labels[item], confidence[item], posteriors[item] = None, None, {}
            continue
        best = np.flatnonzero(row == row.max())
        if best.size > 1:
            ties.append(item)
        k = int(best[0] if tie_break == "first" or best.size == 1 else rng.choice(best))
        labels[item] = r.categories[k]
        confidence[item] = float(row[k] / total)
        posteriors[item] = {c: float(n / total) for c, n in zip(r.categories, row)}
    return ConsensusResult("majority_vote", labels, confidence, posteriors, r.categories, float(threshold), seed,
                           r.n_annotators, ties=ties)


def dawid_skene(
    ratings: Any,
    *,
    categories: Sequence[Any] | None = None,
    max_iter: int = 200,
    tol: float = 1e-7,
    smoothing: float = 0.01,
    init: str = "majority",
    threshold: float = 0.5,
    seed: int = 0,
) -> ConsensusResult:
    """Dawid–Skene consensus by EM; each item's confidence is its posterior probability of the chosen label.

    ``init``: ``"majority"`` (the vote shares, the usual start) or ``"random"`` (the vote shares mixed half and
    half with seeded Dirichlet noise: to check that EM reaches the same optimum from elsewhere; a start with
    no vote information at all could converge to a label-switched solution).
    EM stops when the log-likelihood changes by less than ``tol`` or after ``max_iter`` iterations
    (``converged`` says which). ``smoothing`` (> 0) is added to every confusion count.
    """
    _check_common(threshold, seed)
    positive_int("max_iter", max_iter)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise ConfigError(f"`tol` must be a number > 0, got {tol!r}")
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not smoothing > 0:
        raise ConfigError(f"`smoothing` must be a number > 0, got {smoothing!r}")
    if init not in INITS:
        raise ConfigError(f"`init` must be one of {', '.join(map(repr, INITS))}, got {init!r}")
    r = Ratings.from_any(ratings, categories=categories)
    K, J = len(r.categories), r.n_annotators
    if K < 2:
        raise DatasetError(f"Dawid–Skene needs at least two distinct labels, got {list(r.categories)!r}")
    codes = r.codes
    labelled: np.ndarray = np.asarray((codes >= 0).any(axis=1))
    # one-hot labels: onehot[i, j, l] = 1 when annotator j gave item i label l
    onehot = np.zeros((r.n_items, J, K))
    ii, jj = np.nonzero(codes >= 0)
    onehot[ii, jj, codes[ii, jj]] = 1.0
    counts = onehot.sum(axis=1)
    T = counts + 1e-9
    T = T / T.sum(axis=1, keepdims=True)
    if init == "random":  # half vote shares, half seeded noise: a different start on the same side of label switching
        T = 0.5 * T + 0.5 * np.random.default_rng(seed).dirichlet(np.ones(K), size=r.n_items)
    prev = -math.inf
    converged = False
    iterations = 0
    ll = -math.inf
    for iterations in range(1, max_iter + 1):  # noqa: B007 -- the count is reported
        # M step: priors and confusions from the current posteriors (items nobody labelled carry nothing)
        Tl = T[labelled]
        priors = Tl.mean(axis=0)
        conf = np.einsum("ik,ijl->jkl", Tl, onehot[labelled]) + smoothing
        conf /= conf.sum(axis=2, keepdims=True)
        # E step: log posterior of each true class given the item's labels
        log_t = np.log(priors)[None, :] + np.einsum("ijl,jkl->ik", onehot, np.log(conf))
        top = log_t.max(axis=1, keepdims=True)
        norm = top[:, 0] + np.log(np.exp(log_t - top).sum(axis=1))
        T = np.exp(log_t - norm[:, None])
        ll = float(norm[labelled].sum())
        if abs(ll - prev) < tol:
            converged = True
            break
        prev = ll
    cats = r.categories
    labels: dict[Any, Any] = {}
    confidence: dict[Any, float | None] = {}
    posteriors: dict[Any, dict[Any, float]] = {}
    for n, item in enumerate(r.items):
        if not labelled[n]:
            labels[item], confidence[item], posteriors[item] = None, None, {}
            continue
        k = int(np.argmax(T[n]))
        labels[item] = cats[k]
        confidence[item] = float(T[n, k])
        posteriors[item] = {c: float(p) for c, p in zip(cats, T[n])}
    confusion = {
        a: {cats[k]: {cats[m]: float(conf[j, k, m]) for m in range(K)} for k in range(K)}
        for j, a in enumerate(r.annotators)
    }
    accuracy = {a: float((priors * np.diag(conf[j])).sum()) for j, a in enumerate(r.annotators)}
    return ConsensusResult(
        "dawid_skene", labels, confidence, posteriors, cats, float(threshold), seed, J,
        iterations=iterations, converged=converged, log_likelihood=ll,
        class_priors={c: float(p) for c, p in zip(cats, priors)},
        annotator_confusion=confusion, annotator_accuracy=accuracy,
    )
