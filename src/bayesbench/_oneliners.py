"""One-line helpers on recorded scores or posteriors: ``compare``, ``rank``, ``prob_a_beats_b``,
``is_non_discriminating``. Seeded and vectorised; no model is called."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._ranker import RANKER_DEFAULTS
from ._validate import in_open_interval
from .engine import RankingResult, RunSettings, TaskResult
from .engine._replay import replay_pair, replay_rank
from .engine._settings import RunOptions, with_settings_signature
from .errors import ConfigError, DatasetError
from .posteriors import BetaPosterior
from .stats import EngineConfig, PairedSequentialTest, paired_prob_a_beats_b

if TYPE_CHECKING:
    from typing_extensions import Unpack


# Replays are deterministic by default (seed 0) and decide after every problem (batch 1).
REPLAY_DEFAULTS = {"seed": 0, "batch_size": 1}


@with_settings_signature(ranking=False, live=False, positional=False, defaults=REPLAY_DEFAULTS)
def compare(scores_a: Sequence[float] | str | os.PathLike[str], scores_b: Sequence[float] | str | os.PathLike[str], *,
            names: tuple[str, str] = ("model_a", "model_b"), **options: Unpack[RunOptions]) -> TaskResult:
    """Replay two models' recorded per-problem scores through the sequential engine.

    Takes the run settings that apply without model calls (docs/engine.md). The problems are visited in a
    seeded random order; the result says when the engine would have stopped and what it would have concluded.
    ``scores_a``/``scores_b`` may also be paths to each model's harness logs (lm-eval ``--log_samples``
    output, Inspect logs): the models are then paired on the items both scored, named as the logs name them
    (docs/integrations.md).
    """
    if _is_path(scores_a) or _is_path(scores_b):
        from .integrations._logs import common_scores, load_logs, one_model

        if not (_is_path(scores_a) and _is_path(scores_b)):
            raise ConfigError("pass two score sequences, or the logs of both models (two paths), not one of each")
        bank_a, bank_b = load_logs(scores_a), load_logs(scores_b)  # type: ignore[arg-type]
        logged = (one_model(bank_a, scores_a), one_model(bank_b, scores_b))
        paired, _ = common_scores(bank_a.join(bank_b, how="outer"), logged)
        scores_a, scores_b = paired[logged[0]], paired[logged[1]]
        if names == ("model_a", "model_b"):
            names = logged
    settings = RunSettings.build("compare", (), options, live=False, defaults=REPLAY_DEFAULTS)
    return replay_pair(scores_a, scores_b, settings, settings.posteriors, name=f"{names[0]} vs {names[1]}",
                       model_a_name=names[0], model_b_name=names[1])


@with_settings_signature(ranking=True, live=False, positional=False, defaults={**REPLAY_DEFAULTS, **RANKER_DEFAULTS})
def rank(scores: Mapping[str, Sequence[float]] | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
         **options: Unpack[RunOptions]) -> RankingResult:
    """Race recorded models (``{name: per-problem scores}``) and return the established ranking.

    Takes the run settings that apply without model calls (docs/engine.md; ``min_samples`` defaults to 5).
    ``scores`` may also be harness logs (a path, or a list of paths: lm-eval ``--log_samples`` output, Inspect
    logs): every model in them is ranked on the items all of them scored (docs/integrations.md).
    """
    if _is_path(scores) or (isinstance(scores, (list, tuple)) and scores and all(_is_path(p) for p in scores)):
        from .integrations._logs import common_scores, load_logs

        scores, _ = common_scores(load_logs(*(scores if isinstance(scores, (list, tuple)) else [scores])))
    if not isinstance(scores, Mapping):
        raise DatasetError("`scores` must be a mapping {model name: per-problem scores}, or paths to harness logs")
    settings = RunSettings.build("rank", (), options, ranking=True, live=False,
                                 defaults={**REPLAY_DEFAULTS, **RANKER_DEFAULTS})
    return replay_rank(dict(scores), settings, settings.posteriors)


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _is_posterior(x: Any) -> bool:
    return hasattr(x, "sample") and hasattr(x, "credible_interval")


def prob_a_beats_b(a: Any, b: Any, *, paired: bool = True, n_samples: int = 20_000, seed: int = 0) -> float:
    """P(A's true mean score > B's).

    With two posteriors: from their (independent) posterior distributions, exact where a closed form
    exists, else by ``n_samples`` seeded Monte-Carlo draws. With two score arrays: ``paired=True``
    (default) uses the paired posterior on the same problems (McNemar-style for 0/1 scores);
    ``paired=False`` fits a ``BetaPosterior`` to each side independently (the original behaviour).
    """
    if _is_posterior(a) and _is_posterior(b):
        return float(a.prob_greater(b, n_samples=n_samples, seed=seed))
    xa = np.asarray(a, dtype=float).ravel()
    xb = np.asarray(b, dtype=float).ravel()
    if xa.size == 0 or xb.size == 0:
        raise DatasetError("prob_a_beats_b needs at least one score on each side")
    if paired:
        if xa.size != xb.size:
            raise DatasetError(f"paired scores must have equal lengths, got {xa.size} and {xb.size}")
        return float(paired_prob_a_beats_b(xa, xb))
    pa, pb = BetaPosterior(), BetaPosterior()
    pa.update_many(xa)
    pb.update_many(xb)
    return float(pa.prob_greater(pb, n_samples=n_samples, seed=seed))


def is_non_discriminating(
    a: Any, b: Any, *, margin: float = 0.02, threshold: float = 0.85, n_samples: int = 20_000, seed: int = 0
) -> bool:
    """Are A and B indistinguishable within ±``margin``?

    With two score arrays (paired, one per problem): True when the anytime-valid interval for the
    mean difference at level ``threshold`` lies inside ±margin (a valid equivalence claim). With
    two posteriors: True when P(|mean A − mean B| < margin) > threshold by seeded Monte Carlo
    (the original, posterior reading).
    """
    in_open_interval("threshold", threshold, 0.5, 1.0)
    in_open_interval("margin", margin, 0.0, 1.0)
    if _is_posterior(a) and _is_posterior(b):
        rng = np.random.default_rng(seed)
        da = np.asarray(a.sample(n_samples, rng), dtype=float)
        db = np.asarray(b.sample(n_samples, rng), dtype=float)
        return bool(np.mean(np.abs(da - db) < margin) > threshold)
    xa = np.asarray(a, dtype=float).ravel()
    xb = np.asarray(b, dtype=float).ravel()
    if xa.size != xb.size or xa.size == 0:
        raise DatasetError(f"paired scores must be non-empty with equal lengths, got {xa.size} and {xb.size}")
    if _is_posterior(a) or _is_posterior(b):
        raise ConfigError("pass two posteriors or two score arrays, not one of each")
    test = PairedSequentialTest(EngineConfig(alpha=1.0 - threshold, delta=margin))
    decision = test.update(xa, xb)
    return decision.status == "EQUIVALENT"
