"""History: what a new model would score, from a few well-chosen questions and everything already recorded.

An :class:`ItemBank` holds recorded per-item scores of many models; ``bank.fit()`` fits a low-rank
logistic factor model; ``fit.estimate(score_item, budget=...)`` asks a new model a few items chosen by
the fit and returns an unbiased estimate of its bank-wide mean with an asymptotic or an anytime-valid
interval. See docs/history.md.
"""

from ._active import estimate
from ._bank import ItemBank
from ._baselines import estimate_irt, estimate_uniform
from ._factor import FactorFit, fit_bank, load_fit
from ._mixture import HistoryMixture, history_mixture
from ._place import Placement, place
from ._recorded import RecordedModel, recorded_score, with_recorded
from ._result import Estimate
from ._suite import estimate_suite

__all__ = [
    "Estimate",
    "FactorFit",
    "HistoryMixture",
    "ItemBank",
    "Placement",
    "RecordedModel",
    "estimate",
    "estimate_irt",
    "estimate_suite",
    "estimate_uniform",
    "fit_bank",
    "history_mixture",
    "load_fit",
    "place",
    "recorded_score",
    "with_recorded",
]
